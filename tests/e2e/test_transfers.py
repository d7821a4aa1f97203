"""Transfers and three-way calls to units, with real calls: a SIPp citizen, a registered
seat phone that answers, and a SIPp unit at the carrier trunk (tests/support/phone.py).

Whatever the unit does, the citizen is never dropped: busy, rejected or unanswered, they
come back to the same operator. Each test ends with no channel left in Asterisk."""

from __future__ import annotations

import asyncio
import functools
import re
import signal
import tempfile
import wave
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from tests.support.browser import chromium, logged_in_page
from tests.support.phone import Phone, seat_phone
from tests.support.sipp import DtmfInfo, Hangup, Pause, PlayPcap, call
from tests.support.stack import ADMIN, ADMIN_PASSWORD, Stack, eventually, login_token, stack_env
from tests.support.tone import speech_pcap, tone_pcap, tone_seconds

RING_SECONDS = 6


@pytest.fixture(scope="module")
def transfer_stack(tmp_path_factory):
    stack = Stack(stack_env(tmp_path_factory.mktemp("transfers"),
                            HOTLINE_TRANSFER_RING_SECONDS=str(RING_SECONDS),
                            HOTLINE_TRANSFER_HOLD_LIMIT_SECONDS="20"))
    stack.start()
    assert stack.cli("users", "add", ADMIN, "--role", "admin", "--password",
                     ADMIN_PASSWORD).returncode == 0
    assert stack.cli("units", "add", "ZJJ", "--name", "市住房和城乡建设局",
                     "--phone", "2001").returncode == 0
    assert stack.cli("seats", "add", "1201", "--password", "seat-1201-pass").returncode == 0
    assert stack.cli("users", "add", "op1201", "--role", "operator", "--password",
                     "op1201-password", "--seat", "1201").returncode == 0
    yield stack
    stack.stop()


class Operator:
    """Seat 1201's operator: their phone answers every call; they click over HTTP."""

    def __init__(self, stack: Stack, phone: Phone, token: str) -> None:
        self.stack, self.phone, self.token = stack, phone, token

    async def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as http, http.post(
                self.stack.base_url + path, json=body or {},
                headers={"Authorization": f"Bearer {self.token}"}) as r:
            return r.status, await r.json()


@pytest.fixture
async def operator(transfer_stack):
    stack = transfer_stack
    await stack.login()
    phone = await seat_phone(stack, "1201")
    token = await login_token(stack, "op1201", "op1201-password")
    async with aiohttp.ClientSession() as http, http.post(
            f"{stack.base_url}/api/seats/1201/ready",
            headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200, await r.text()
    yield Operator(stack, phone, token)
    await stack.post("/api/seats/1201/logout", {})
    await phone.stop()
    # nothing left behind: every channel of the test is gone
    await eventually(lambda: _no_channels(stack), timeout=15, what="no channels left")


async def _no_channels(stack):
    shown = await asyncio.to_thread(stack.asterisk_cli, "core show channels")
    return "0 active channels" in shown or shown


@functools.cache
def citizen_speech() -> Path:
    return speech_pcap(Path(tempfile.mkdtemp(prefix="speech-")) / "citizen.pcap", repeats=8)


async def answered_call(stack, caller: str, talk_ms: int = 30000):
    """A citizen presses 0, is answered by seat 1201 and talks (a speech stream of their
    own: a phone that echoed Asterisk's own packets back, as SIPp's -rtp_echo does, makes
    MixMonitor pad the recording with minutes of silence at the transfer);
    (the SIPp task, the call record)."""
    placing = asyncio.create_task(call(stack.sip_port, caller, [
        Pause(1500), DtmfInfo("0"), PlayPcap(citizen_speech()), Pause(talk_ms), Hangup()],
        timeout=talk_ms / 1000 + 30, rtp=False))

    async def answered():
        record = await stack.call_of(caller)
        return record if record and record["answered"] and record["seat"] == "1201" else None

    return placing, await eventually(answered, timeout=30, what=f"{caller} answered")


async def leg_of(stack, call_id, until, what="the leg"):
    async def check():
        record = await stack.get(f"/api/calls/{call_id}")
        legs = record["transfers"]
        return legs[-1] if legs and until(legs[-1]) else None
    return await eventually(check, timeout=30, what=what)


async def consult_answered(stack, operator, record) -> dict:
    """The operator starts a consult with ZJJ; returns the leg once the unit answered."""
    status, leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                      {"unit": "ZJJ", "mode": "consult"})
    assert status == 202, leg
    return await leg_of(stack, record["id"], lambda t: t["answered"], "unit answered")


async def ended(stack, call_id):
    async def check():
        record = await stack.get(f"/api/calls/{call_id}")
        return record if record["ended"] else None
    return await eventually(check, timeout=40, what="the call's end")


def in_room(stack, call_id) -> str:
    return stack.asterisk_cli(f"confbridge list hotline-{call_id}")


async def room_holds(stack, call_id, *, operator: bool, trunk_channels: int, what: str) -> str:
    """Wait until the call's room holds the operator (or not) and that many trunk channels
    (the citizen, the unit); returns `confbridge list` of the room."""
    async def check():
        shown = await asyncio.to_thread(in_room, stack, call_id)
        held = (("PJSIP/1201-" in shown) == operator
                and shown.count("PJSIP/trunk-") == trunk_channels)
        return shown if held else None
    return await eventually(check, what=what)


async def test_blind_transfer_to_a_unit_that_answers(transfer_stack, operator):
    stack = transfer_stack
    async with Phone(stack.trunk_port, "answer") as unit:
        placing, record = await answered_call(stack, "13900000201", talk_ms=14000)
        status, leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                          {"unit": "ZJJ", "mode": "blind"})
        assert status == 202, leg
        assert (leg["mode"], leg["unit"], leg["number"]) == ("blind", "ZJJ", "2001")
        answered = await leg_of(stack, record["id"], lambda t: t["answered"], "unit answered")
        assert answered["handed_over"] is True
        # the operator's phone was let go; citizen and unit share the room
        room = await asyncio.to_thread(in_room, stack, record["id"])
        assert "PJSIP/trunk-" in room and "PJSIP/1201-" not in room, room
        assert (await placing).ok
        final = await ended(stack, record["id"])
        [invite] = unit.invites()
    assert final["outcome"] == "transferred"
    [done] = final["transfers"]
    assert (done["outcome"], done["leg"]) == ("answered", leg["leg"])
    assert done["requested"] <= done["answered"] <= done["ended"]
    assert invite.startswith("INVITE sip:2001@127.0.0.1")
    assert re.search(rf"^X-Hotline-Call-Id: {re.escape(record['id'])}$", invite, re.M), invite
    assert "X-Hotline-Ticket" not in invite  # no ticket filed for this call yet


@pytest.mark.parametrize(("behaviour", "outcome", "caller"), [
    ("busy", "busy", "13900000211"), ("reject", "rejected", "13900000212"),
    ("ring", "no_answer", "13900000213")])
async def test_a_failed_blind_transfer_brings_the_caller_back_to_the_operator(
        transfer_stack, operator, behaviour, outcome, caller):
    stack = transfer_stack
    async with Phone(stack.trunk_port, behaviour):
        placing, record = await answered_call(stack, caller,
                                              talk_ms=RING_SECONDS * 1000 + 16000)
        status, _leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                           {"unit": "ZJJ", "mode": "blind"})
        assert status == 202
        failed = await leg_of(stack, record["id"], lambda t: t["outcome"], "the leg's end")
        assert failed["outcome"] == outcome and not failed["handed_over"]
        # the same operator's phone rings again and has the caller back
        async def operator_back():
            room = await asyncio.to_thread(in_room, stack, record["id"])
            return room if "PJSIP/1201-" in room and "PJSIP/trunk-" in room else None
        await eventually(operator_back, timeout=20, what="the operator back in the room")
        assert (await placing).ok
        final = await ended(stack, record["id"])
    assert final["outcome"] == "answered"
    assert len(operator.phone.invites()) == 2  # the queue's call, then the ring-back


def seat_channel(stack) -> str:
    for line in stack.asterisk_cli("core show channels concise").splitlines():
        if line.startswith("PJSIP/1201-"):
            return line.split("!", 1)[0]
    raise AssertionError("seat 1201 has no channel")


async def test_consult_then_complete(transfer_stack, operator):
    """With a ticket filed from the call first: its number rides on the INVITE and is
    read out in the unit's briefing."""
    stack = transfer_stack
    async with Phone(stack.trunk_port, "answer") as unit:
        placing, record = await answered_call(stack, "13900000221", talk_ms=18000)
        status, ticket = await operator.post("/api/tickets", {
            "phone": "13900000221", "kind": "complaint", "content": "小区二次供水水压不足",
            "call_id": record["id"]})
        assert status == 201, ticket
        status, leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                          {"unit": "ZJJ", "mode": "consult"})
        assert status == 202, leg
        # completing before the unit answers is refused, and changes nothing
        status, refused = await operator.post(f"/api/calls/{record['id']}/transfer/complete")
        assert status in (200, 409), refused
        await leg_of(stack, record["id"], lambda t: t["answered"], "unit answered")
        consult = await asyncio.to_thread(
            stack.asterisk_cli, f"confbridge list consult-{record['id']}")
        assert "PJSIP/1201-" in consult, consult  # the operator talks with the unit...
        room = await asyncio.to_thread(in_room, stack, record["id"])
        assert "PJSIP/1201-" not in room  # ...while the citizen holds
        status, done = await operator.post(f"/api/calls/{record['id']}/transfer/complete")
        assert status == 200 and done["handed_over"], done

        room = await room_holds(stack, record["id"], operator=False, trunk_channels=2,
                         what="citizen and unit in one room")
        assert "PJSIP/1201-" not in room
        assert (await placing).ok
        final = await ended(stack, record["id"])
        [invite] = unit.invites()
    assert final["outcome"] == "transferred" and final["ticket_id"] == ticket["id"]
    assert final["transfers"][0]["outcome"] == "answered"
    assert re.search(rf"^X-Hotline-Ticket: {ticket['id']}$", invite, re.M), invite
    digits = [f"digit_{c}" for c in ticket["id"]]
    played = re.search(r'Playback\("PJSIP/trunk-\w+", "([^"]*briefing_ticket[^"]*)"\)',
                       stack.asterisk_log()).group(1)
    assert [p.rsplit("/", 1)[1] for p in played.split("&")] == [
        "briefing_intro", "briefing_citizen", "briefing_ticket", *digits,
        "briefing_kind_complaint", "briefing_connecting"], played


async def test_consult_then_cancel_returns_to_the_caller(transfer_stack, operator):
    stack = transfer_stack
    async with Phone(stack.trunk_port, "answer"):
        placing, record = await answered_call(stack, "13900000222", talk_ms=14000)
        await consult_answered(stack, operator, record)
        status, done = await operator.post(f"/api/calls/{record['id']}/transfer/cancel")
        assert status == 200 and done["outcome"] == "cancelled", done

        await room_holds(stack, record["id"], operator=True, trunk_channels=1,
                         what="operator back with the caller, the unit gone")
        assert (await placing).ok
        final = await ended(stack, record["id"])
    assert final["outcome"] == "answered"
    assert len(operator.phone.invites()) == 1  # not rung again: moved back


async def test_the_operator_hanging_up_during_a_consult_completes_it(transfer_stack, operator):
    stack = transfer_stack
    async with Phone(stack.trunk_port, "answer"):
        placing, record = await answered_call(stack, "13900000223", talk_ms=14000)
        await consult_answered(stack, operator, record)
        channel = await asyncio.to_thread(seat_channel, stack)
        await asyncio.to_thread(stack.asterisk_cli, f"channel request hangup {channel}")
        await leg_of(stack, record["id"], lambda t: t["handed_over"], "handed over")

        await room_holds(stack, record["id"], operator=False, trunk_channels=2,
                         what="citizen and unit in one room")
        assert (await placing).ok
        final = await ended(stack, record["id"])
    assert final["outcome"] == "transferred"


async def rtp_counts(stack) -> dict[str, tuple[int, int]]:
    """Channel → (packets received, packets sent) from `pjsip show channelstats`."""
    shown = await asyncio.to_thread(stack.asterisk_cli, "pjsip show channelstats")
    counts = {}
    for line in shown.splitlines():
        fields = line.split()
        if len(fields) >= 9 and fields[1].startswith(("trunk-", "1201-")):
            counts[fields[1]] = (int(fields[4]), int(fields[8]))
    return counts


async def test_three_way_call_then_the_operator_leaves(transfer_stack, operator):
    stack = transfer_stack
    async with Phone(stack.trunk_port, "answer"):
        placing, record = await answered_call(stack, "13900000231", talk_ms=18000)
        status, leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                          {"unit": "ZJJ", "mode": "conference"})
        assert status == 202, leg

        await room_holds(stack, record["id"], operator=True, trunk_channels=2,
                         what="caller, operator and unit in one room")
        status, left = await operator.post(f"/api/calls/{record['id']}/leave")
        assert status == 200 and left["handed_over"], left

        await room_holds(stack, record["id"], operator=False, trunk_channels=2,
                         what="caller and unit talking on")
        before = await rtp_counts(stack)
        await asyncio.sleep(2)
        after = await rtp_counts(stack)
        trunk_legs = [c for c in after if c.startswith("trunk-")]
        assert len(trunk_legs) == 2, after
        for channel in trunk_legs:  # media both ways on both the citizen's and the unit's
            assert after[channel][0] > before[channel][0] + 50, (before, after)
            assert after[channel][1] > before[channel][1] + 50, (before, after)
        assert (await placing).ok
        final = await ended(stack, record["id"])
    assert final["outcome"] == "transferred"
    assert final["transfers"][0]["mode"] == "conference"


async def test_a_three_way_call_the_unit_never_answers_goes_on(transfer_stack, operator):
    stack = transfer_stack
    async with Phone(stack.trunk_port, "ring"):
        placing, record = await answered_call(stack, "13900000232",
                                              talk_ms=RING_SECONDS * 1000 + 10000)
        status, _leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                           {"unit": "ZJJ", "mode": "conference"})
        assert status == 202
        failed = await leg_of(stack, record["id"], lambda t: t["outcome"], "the leg's end")
        assert failed["outcome"] == "no_answer"
        room = await asyncio.to_thread(in_room, stack, record["id"])
        assert "PJSIP/1201-" in room and room.count("PJSIP/trunk-") == 1, room
        assert (await placing).ok
        final = await ended(stack, record["id"])
    assert final["outcome"] == "answered"
    assert len(operator.phone.invites()) == 1


async def test_one_recording_covers_the_call_with_the_unit_heard_after_the_transfer(
        transfer_stack, operator, tmp_path):
    stack = transfer_stack
    tone = tone_pcap(tmp_path / "unit-tone.pcap", hz=700)
    async with Phone(stack.trunk_port, "answer", pcap=tone):
        placing, record = await answered_call(stack, "13900000241", talk_ms=20000)
        await asyncio.sleep(3)  # citizen and operator talk first
        status, _leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                           {"unit": "ZJJ", "mode": "blind"})
        assert status == 202
        assert (await placing).ok
        final = await ended(stack, record["id"])
    files = sorted(f.name for f in (stack.home / "recordings").glob(f"{record['id']}*"))
    # one recording, not one per leg; beside it its two sides, for the transcript
    assert files == [f"{record['id']}{part}.wav" for part in ("-in", "-out", "")]
    recordings = stack.home / "recordings"
    assert sum(tone_seconds(recordings / f"{record['id']}-out.wav", hz=700)) >= 4
    assert not any(tone_seconds(recordings / f"{record['id']}-in.wav", hz=700))
    wav = await stack.get(final["recording"])
    path = tmp_path / "call.wav"
    path.write_bytes(wav)
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
    lasted = (datetime.fromisoformat(final["ended"])
              - datetime.fromisoformat(final["started"])).total_seconds()
    assert lasted - 2 <= seconds <= lasted + 0.5, (seconds, lasted)
    heard = tone_seconds(path, hz=700)
    answered_at = (datetime.fromisoformat(final["transfers"][0]["answered"])
                   - datetime.fromisoformat(final["started"])).total_seconds()
    before = heard[:int(answered_at) - 1]
    after = heard[int(answered_at) + 1:]
    assert before and not any(before), heard  # the unit's tone is not there before...
    assert sum(after) >= 4, heard  # ...and is heard once it has the caller


async def test_emergency_from_the_console_is_a_three_way_call_with_a_briefing(
        transfer_stack, operator):
    stack = transfer_stack
    async with Phone(stack.trunk_port, "answer") as police:
        placing, record = await answered_call(stack, "13900000251", talk_ms=14000)
        status, leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                          {"number": "110"})
        assert status == 202, leg
        assert (leg["mode"], leg["number"], leg["unit"]) == ("conference", "110", None)

        await room_holds(stack, record["id"], operator=True, trunk_channels=2,
                         what="caller, operator and 110 in one room")
        assert (await placing).ok
        await ended(stack, record["id"])
        [invite] = police.invites()
    assert invite.startswith("INVITE sip:110@127.0.0.1")
    assert "From: \"13900000251\" <sip:13900000251@" in invite  # police can call back
    # The police heard the briefing, and only then joined the caller.
    log = stack.asterisk_log()
    channel = re.search(rf'NoOp\("(PJSIP/trunk-\w+)", "leg {leg["leg"]} of', log).group(1)
    lines = [line for line in log.splitlines() if channel in line]
    played = next(i for i, line in enumerate(lines) if "briefing_intro" in line)
    joined = next(i for i, line in enumerate(lines) if "ConfBridge(" in line)
    assert played < joined, lines
    assert any("briefing_emergency_110" in line for line in lines)


async def test_bad_requests_get_clear_answers_and_leave_the_call_alone(
        transfer_stack, operator):
    stack = transfer_stack
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    start = now.hour + 1 if now.hour < 21 else 1  # a window that does not hold now
    assert stack.cli("units", "add", "NIGHT", "--name", "市档案馆", "--phone", "2002",
                     "--hours", f"{start:02d}:00-{start + 1:02d}:00").returncode == 0
    async with Phone(stack.trunk_port, "ring") as unit:
        placing, record = await answered_call(stack, "13900000261", talk_ms=12000)
        path = f"/api/calls/{record['id']}/transfer"
        status, body = await operator.post(path, {"unit": "NOSUCH"})
        assert status == 404, body
        status, body = await operator.post(path, {"unit": "NIGHT"})
        assert status == 409 and "值班电话" in body["error"], body
        for bad, field in (({"unit": "ZJJ", "mode": "sideways"}, "mode"),
                           ({"number": "999"}, "number"),
                           ({"unit": "ZJJ", "number": "110"}, "unit"), ({}, "unit")):
            status, body = await operator.post(path, bad)
            assert status == 422 and body["field"] == field, (bad, body)
        status, body = await operator.post("/api/calls/nosuch.1/transfer", {"unit": "ZJJ"})
        assert status == 404
        # two clicks at once: one leg rings, the other is refused
        results = await asyncio.gather(*(operator.post(path, {"unit": "ZJJ"})
                                         for _ in range(2)))
        assert sorted(s for s, _ in results) == [202, 409], results
        await eventually(lambda: asyncio.sleep(0, unit.invites()), what="the unit rung")
        # the caller hangs up while the unit rings: the unit's phone stops ringing
        await asyncio.to_thread(stack.asterisk_cli, f"channel request hangup "
                                f"{await asyncio.to_thread(citizen_channel, stack, record)}")
        final = await ended(stack, record["id"])
        [leg] = final["transfers"]
        assert leg["outcome"] == "cancelled" and leg["ended"], leg
        await placing
        status, body = await operator.post(path, {"unit": "ZJJ"})
        assert status == 409 and "ended" in body["error"], body
        assert len(unit.invites()) == 1


def citizen_channel(stack, record) -> str:
    for line in stack.asterisk_cli("core show channels concise").splitlines():
        fields = line.split("!")
        if fields[0].startswith("PJSIP/trunk-") and record["id"] in line:
            return fields[0]
    raise AssertionError("no citizen channel")


async def test_a_consult_survives_a_service_restart_and_the_hold_limit_holds(
        transfer_stack, operator):
    """The service is killed while the citizen holds and the operator talks to the unit:
    the restarted service picks the transfer up from Asterisk; the operator can still
    complete it, and had they not, the hold limit would have brought them back."""
    stack = transfer_stack
    async with Phone(stack.trunk_port, "answer"):
        placing, record = await answered_call(stack, "13900000271", talk_ms=40000)
        await consult_answered(stack, operator, record)
        stack.process.send_signal(signal.SIGKILL)
        stack.process.wait(10)
        await asyncio.to_thread(stack.start)  # adopts the running Asterisk
        # not completed: the hold limit (20 s here) brings the operator back to the citizen
        back = await leg_of(stack, record["id"], lambda t: t["outcome"], "the hold limit")
        assert back["outcome"] == "cancelled"
        await room_holds(stack, record["id"], operator=True, trunk_channels=1,
                         what="the operator back with the citizen after the hold limit")
        # and a new consult after the restart completes
        status, _leg = await operator.post(f"/api/calls/{record['id']}/transfer",
                                           {"unit": "ZJJ", "mode": "consult"})
        assert status == 202
        await leg_of(stack, record["id"], lambda t: t["answered"], "unit answered again")
        status, done = await operator.post(f"/api/calls/{record['id']}/transfer/complete")
        assert status == 200 and done["handed_over"], done
        await room_holds(stack, record["id"], operator=False, trunk_channels=2,
                         what="citizen and unit in one room")
        await placing
        final = await ended(stack, record["id"])
    assert final["outcome"] == "transferred"
    assert [t["outcome"] for t in final["transfers"]] == ["cancelled", "answered"]
    # the unit's leg, found live by the restarted service, was not taken for a citizen call
    assert (await stack.get("/api/calls", caller="12345"))["total"] == 0


async def test_the_console_transfers_and_shows_ringing_then_answered(
        transfer_stack, operator, tmp_path):
    """In headless Chromium: the operator finds the unit by its pinyin initials, starts a
    three-way call, watches it ring and be answered, then leaves; the supervisor's page
    shows who the caller is talking with."""
    stack = transfer_stack
    assert stack.cli("users", "add", "sup1202", "--role", "supervisor", "--password",
                     "sup1202-password").returncode == 0
    async with Phone(stack.trunk_port, "answer", ring_ms=2500), chromium() as browser:
        page = await logged_in_page(browser, f"{stack.base_url}/console", "op1201",
                                    "op1201-password", "#desk:not([hidden])")
        placing, record = await answered_call(stack, "13900000281", talk_ms=25000)
        await page.wait_for_selector("#transfer:not([hidden])", timeout=15000)
        await page.fill("#unit-search", "zjj")
        await page.click("#unit-results button:has-text('市住房和城乡建设局')")
        assert "现拨 2001" in await page.text_content("#unit-results")
        await page.click("#transfer-conference")
        await page.wait_for_selector("#transfer-state:has-text('对方振铃中')", timeout=10000)
        await page.wait_for_selector("#transfer-state:has-text('对方已接通')", timeout=15000)
        supervisor = await logged_in_page(browser, f"{stack.base_url}/supervisor", "sup1202",
                                          "sup1202-password", "#board:not([hidden])")
        await supervisor.wait_for_selector(
            "#calls td:has-text('三方通话 市住房和城乡建设局（ZJJ）：已接通')", timeout=10000)
        await page.click("#transfer-leave")
        await page.wait_for_selector("#transfer-state:has-text('来电人已转交对方')",
                                     timeout=10000)
        await supervisor.wait_for_selector("#calls td:has-text('来电人与单位通话中')",
                                           timeout=10000)
        await page.screenshot(path=str(tmp_path / "console-transfer.png"), full_page=True)
        assert (await placing).ok
        final = await ended(stack, record["id"])
    assert final["outcome"] == "transferred"
