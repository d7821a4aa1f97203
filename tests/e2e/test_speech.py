"""Live transcripts on real calls: Asterisk taps both sides of the citizen's channel (ARI
snoop + externalMedia over AudioSocket), the service decodes them with the real Korean
Vosk model, the operator's browser gets the text as it comes, and the call record keeps
the whole transcript, the citizen's and the operator's words apart."""

from __future__ import annotations

import asyncio
import functools
import re
import tempfile
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from ivr.menu.config import DEFAULT_MENU_FILE
from tests.support.phone import Phone, seat_phone
from tests.support.sipp import DtmfInfo, Hangup, Pause, PlayPcap, call
from tests.support.speech import GREETING, THANKS, korean_model_path, spoken_wav
from tests.support.stack import ADMIN, ADMIN_PASSWORD, Stack, eventually, login_token, stack_env
from tests.support.tone import wav_pcap
from tests.support.websocket import Browser

SEAT = "1301"


def korean_menu() -> str:
    """The default menu with Korean words standing in for its Mandarin phrases (the model
    every test uses is Korean): 2 (complaint) and 0 (operator) may be said."""
    text = re.sub(r", phrases = \[[^\]]*\]", "", DEFAULT_MENU_FILE.read_text(encoding="utf-8"))
    text = text.replace('say = ["ack_complaint", "to_operator"]',
                        f'say = ["ack_complaint", "to_operator"], phrases = ["{THANKS}"]')
    return text.replace('"0" = { queue = "hotline", say = ["to_operator"]',
                        f'"0" = {{ queue = "hotline", say = ["to_operator"], '
                        f'phrases = ["{GREETING}"]')


@pytest.fixture(scope="module")
def speech_stack(tmp_path_factory):
    home = tmp_path_factory.mktemp("speech")
    (home / "conf").mkdir()  # the admin's menu, there before the first start
    (home / "conf" / "menu.toml").write_text(korean_menu(), encoding="utf-8")
    stack = Stack(stack_env(home, HOTLINE_VOSK_MODEL=str(korean_model_path())))
    stack.start()
    for argv in (("users", "add", ADMIN, "--role", "admin", "--password", ADMIN_PASSWORD),
                 ("seats", "add", SEAT, "--password", f"seat-{SEAT}-pass"),
                 ("users", "add", f"op{SEAT}", "--role", "operator", "--password",
                  f"op{SEAT}-password", "--seat", SEAT),
                 ("units", "add", "ZJJ", "--name", "市住房和城乡建设局", "--phone", "2001")):
        assert stack.cli(*argv).returncode == 0
    yield stack
    stack.stop()


@functools.cache
def spoken(text: str, codec: str, pad: float = 0.3) -> Path:
    """`text` in Korean as RTP (`pad` s of silence first): the citizen's phone sends PCMU,
    the seat's and the unit's PCMA."""
    folder = Path(tempfile.mkdtemp(prefix="said-"))
    return wav_pcap(folder / "said.pcap", spoken_wav(folder / "said.wav", text, pad=pad),
                    codec)


async def ready_operator(stack):
    await stack.login()
    token = await login_token(stack, f"op{SEAT}", f"op{SEAT}-password")
    async with aiohttp.ClientSession() as http, http.post(
            f"{stack.base_url}/api/seats/{SEAT}/ready",
            headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200, await r.text()
    return token


async def test_speech_is_up_with_a_model(speech_stack):
    async def up():
        health = await speech_stack.get("/api/health")
        return health if health.get("asr") == "up" else None

    assert (await eventually(up, timeout=60, what="asr up"))["asr"] == "up"


async def test_both_sides_reach_the_operator_live_and_the_call_record_after(speech_stack):
    stack = speech_stack
    token = await ready_operator(stack)
    # the operator says 감사합니다 once they answer; the citizen, answered, says 안녕하세요
    phone = await seat_phone(stack, SEAT, pcap=spoken(f"{THANKS}. {THANKS}", "PCMA"))
    try:
        async with Browser(stack, token) as console:
            placing = asyncio.create_task(call(stack.sip_port, "13900000701", [
                Pause(1500), DtmfInfo("0"), Pause(9000),
                # play_pcap_audio does not wait: the pause lets the sentence be said
                PlayPcap(spoken(f"{GREETING}. {GREETING}. {GREETING}", "PCMU")),
                Pause(8000), Hangup()], timeout=60, rtp=False))
            assert (await placing).ok
            record = await stack.call_of("13900000701")

            async def transcribed():
                got = await stack.get(f"/api/calls/{record['id']}")
                return got if got["transcript"] else None

            try:
                final = await eventually(transcribed, timeout=60, what="the transcript")
            except AssertionError:
                print(stack.log.read_text(errors="replace")[-6000:])
                print("\n".join(line for line in stack.asterisk_log().splitlines()
                                if "ERROR" in line or "WARNING" in line or "Stasis" in line
                                or "ari" in line.lower())[-4000:])
                raise
            frames = [m for m in console.messages if m["type"] == "transcript"]
    finally:
        await phone.stop()
        await stack.post(f"/api/seats/{SEAT}/logout", {})

    # live: partial text while the citizen speaks, then sentences, each side told apart (a
    # short sentence may come whole: a pause ends it before a partial was due)
    assert {f["side"] for f in frames} == {"caller", "agent"}, frames
    for side in ("caller", "agent"):
        states = [f["state"] for f in frames if f["side"] == side]
        assert "final" in states, (side, states)
    assert "partial" in [f["state"] for f in frames if f["side"] == "caller"], frames
    assert all(f["call_id"] == record["id"] for f in frames)

    # after: the whole transcript on the call, in time order, inside the call
    segments = final["transcript"]["segments"]
    lasted = (datetime.fromisoformat(final["ended"])
              - datetime.fromisoformat(final["started"])).total_seconds()
    assert {s["side"] for s in segments} == {"caller", "agent"}
    assert [s["start"] for s in segments] == sorted(s["start"] for s in segments)
    assert all(0 <= s["start"] <= s["end"] <= lasted + 1 and s["text"] for s in segments)
    answered = (datetime.fromisoformat(final["answered"])
                - datetime.fromisoformat(final["started"])).total_seconds()
    # the operator's words come after they answered (prompts and music are not theirs)
    assert all(s["start"] >= answered - 0.5 for s in segments if s["side"] == "agent")
    text = final["transcript"]["text"]
    assert "市民：" in text and "话务员：" in text
    # the supervisor's page: speech on, both streams given back, none sent to after-call
    speech = (await stack.get("/api/supervisor/state"))["speech"]
    assert speech["asr"] == "up" and speech["live_streams"] == 0
    assert speech["refused_streams"] == speech["fell_behind_streams"] == 0


async def menu_choice(stack, caller, steps):
    await stack.login()
    placing = asyncio.create_task(call(stack.sip_port, caller, steps, timeout=60, rtp=False))

    async def left_menu():
        record = await stack.call_of(caller)
        return record if record and record["ivr_path"] else None

    try:
        return await eventually(left_menu, timeout=45, what=f"{caller} out of the menu")
    finally:
        await placing  # hung up: nobody left in the queue for the next test


async def test_a_citizen_may_say_their_choice_instead_of_a_key(speech_stack):
    # says the phrase standing for key 2 (complaint) during the welcome, presses nothing:
    # acted on as the welcome ends, not after the whole menu has been read out
    record = await menu_choice(speech_stack, "13900000702", [
        Pause(2500), PlayPcap(spoken(THANKS, "PCMU")), Pause(14000), Hangup()])
    assert record["ivr_path"] == ["complaint"] and record["request_kind"] == "complaint"


async def test_the_keypad_wins_over_what_is_said(speech_stack):
    record = await menu_choice(speech_stack, "13900000703", [
        Pause(2500), PlayPcap(spoken(THANKS, "PCMU")), Pause(3000), DtmfInfo("1"),
        Pause(6000), Hangup()])
    assert record["ivr_path"] == ["consultation"]


async def test_the_transcript_goes_on_after_a_transfer_with_the_unit_as_the_agent(speech_stack):
    stack = speech_stack
    token = await ready_operator(stack)
    phone = await seat_phone(stack, SEAT, pcap=spoken(THANKS, "PCMA"))
    # the unit answers, hears its 7-second briefing, then speaks in the room
    unit = Phone(stack.trunk_port, "answer", pcap=spoken(f"{GREETING}. {THANKS}", "PCMA",
                                                          pad=9.0))
    try:
        async with unit, Browser(stack, token) as console:
            placing = asyncio.create_task(call(stack.sip_port, "13900000704", [
                Pause(1500), DtmfInfo("0"), Pause(32000), Hangup()], timeout=60, rtp=False))

            async def answered():
                record = await stack.call_of("13900000704")
                return record if record and record["answered"] else None

            record = await eventually(answered, timeout=30, what="answered")
            await asyncio.sleep(4)  # the operator speaks first
            async with aiohttp.ClientSession() as http, http.post(
                    f"{stack.base_url}/api/calls/{record['id']}/transfer",
                    json={"unit": "ZJJ", "mode": "blind"},
                    headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 202, await r.text()
            assert (await placing).ok

            async def transcribed():
                got = await stack.get(f"/api/calls/{record['id']}")
                return got if got["transcript"] else None

            final = await eventually(transcribed, timeout=60, what="the transcript")
            frames = [m for m in console.messages if m["type"] == "transcript"]
    finally:
        await phone.stop()
        await stack.post(f"/api/seats/{SEAT}/logout", {})
    leg = final["transfers"][0]
    assert leg["outcome"] == "answered" and final["outcome"] == "transferred"
    unit_joined = (datetime.fromisoformat(leg["answered"])
                   - datetime.fromisoformat(final["started"])).total_seconds() + 6
    agent = [s for s in final["transcript"]["segments"] if s["side"] == "agent"]
    # the unit's words, heard by the citizen after the transfer, are on the same transcript
    # (a sentence heard as the unit joins may begin a moment before the estimate)
    assert any(s["end"] > unit_joined for s in agent), (unit_joined, agent)
    # and the operator who took the call still sees them live, to finish the ticket
    assert any(f["side"] == "agent" and f["state"] == "final" and f["end"] > unit_joined
               for f in frames), frames
