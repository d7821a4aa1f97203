"""Operator seats: added live, registered with digest auth, ready in the queue, answering."""

import asyncio

from tests.support.sipp import (
    DtmfInfo,
    Hangup,
    Pause,
    answer_one_call,
    call,
    free_udp_port,
    register,
)
from tests.support.stack import eventually


async def test_a_seat_added_live_registers_goes_ready_and_answers_a_citizen(stack):
    added = stack.cli("seats", "add", "1001", "--password", "seat-1001-pass", "--name", "张丽")
    assert added.returncode == 0 and "live" in added.stdout, added.stdout + added.stderr
    shown = stack.cli("asterisk", "cli", "pjsip show endpoint 1001")
    assert "Endpoint:  1001" in shown.stdout, "the seat must exist without a restart"

    phone_port = free_udp_port()
    wrong = await register(stack.sip_port, "1001", "not-the-password", phone_port)
    assert not wrong.ok, "a wrong password must not register"
    phone = asyncio.create_task(answer_one_call(phone_port, timeout=60))
    await asyncio.sleep(0.5)
    registered = await register(stack.sip_port, "1001", "seat-1001-pass", phone_port)
    assert registered.ok, registered.output[-1500:]

    ready = await stack.post("/api/seats/1001/ready", {})
    assert ready["state"] == "ready"
    assert "Seat 1001" in stack.cli("asterisk", "cli", "queue show hotline").stdout

    result = await call(stack.sip_port, "13800000401",
                        [Pause(1500), DtmfInfo("0"), Pause(14000), Hangup()])
    trace = await phone
    assert result.ok, result.output[-2000:]
    assert "INVITE sip:1001@127.0.0.1" in trace, "the queue rang the seat's phone"

    async def ended():
        record = await stack.call_of("13800000401")
        return record if record and record["ended"] else None

    record = await eventually(ended, what="the call record")
    assert record["seat"] == "1001" and record["answered"] is not None
    assert record["outcome"] == "answered"
    assert record["wait_seconds"] is not None and record["wait_seconds"] < 10

    paused = await stack.post("/api/seats/1001/pause", {"reason": "meal"})
    assert (paused["state"], paused["pause_reason"]) == ("paused", "meal")
    assert "paused" in stack.cli("asterisk", "cli", "queue show hotline").stdout.lower()
    seats = await stack.get("/api/seats")
    assert seats["items"][0]["state"] == "paused"
    signed_out = await stack.post("/api/seats/1001/logout", {})
    assert signed_out["state"] == "off"
    assert "Seat 1001" not in stack.cli("asterisk", "cli", "queue show hotline").stdout


async def test_a_night_seat_signs_into_the_night_queue(stack):
    added = stack.cli("seats", "add", "1009", "--password", "seat-1009-pass", "--night")
    assert added.returncode == 0, added.stderr
    ready = await stack.post("/api/seats/1009/ready", {})
    assert (ready["state"], ready["night"]) == ("ready", True)
    assert "Seat 1009" in stack.cli("asterisk", "cli", "queue show hotline-night").stdout
    assert "Seat 1009" not in stack.cli("asterisk", "cli", "queue show hotline").stdout
    # back on the day shift: it moves queues the next time it goes ready
    assert stack.cli("seats", "add", "1009", "--password", "seat-1009-pass",
                     "--no-night").returncode == 0
    await stack.post("/api/seats/1009/ready", {})
    assert "Seat 1009" in stack.cli("asterisk", "cli", "queue show hotline").stdout
    assert "Seat 1009" not in stack.cli("asterisk", "cli", "queue show hotline-night").stdout
