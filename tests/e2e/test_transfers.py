"""Transfers and three-way calls to units, with real calls: a SIPp citizen, a registered
seat phone that answers, and a SIPp unit at the carrier trunk (tests/support/phone.py).

Whatever the unit does, the citizen is never dropped: busy, rejected or unanswered, they
come back to the same operator. Each test ends with no channel left in Asterisk."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from tests.support.phone import Phone, seat_phone
from tests.support.sipp import DtmfInfo, Hangup, Pause, call
from tests.support.stack import ADMIN, ADMIN_PASSWORD, Stack, eventually, login_token, stack_env

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


async def answered_call(stack, caller: str, talk_ms: int = 30000):
    """A citizen presses 0 and is answered by seat 1201; (the SIPp task, the call record)."""
    placing = asyncio.create_task(call(stack.sip_port, caller, [
        Pause(1500), DtmfInfo("0"), Pause(talk_ms), Hangup()], timeout=talk_ms / 1000 + 30))

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


async def ended(stack, call_id):
    async def check():
        record = await stack.get(f"/api/calls/{call_id}")
        return record if record["ended"] else None
    return await eventually(check, timeout=40, what="the call's end")


def in_room(stack, call_id) -> str:
    return stack.asterisk_cli(f"confbridge list hotline-{call_id}")


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
