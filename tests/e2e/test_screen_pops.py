"""Screen pops over the websocket: the rung seat's browser gets the pop; others get nothing."""

import asyncio

import aiohttp

from tests.support.sipp import (
    DtmfInfo,
    Hangup,
    Pause,
    answer_one_call,
    call,
    free_udp_port,
    register,
)
from tests.support.stack import login_token
from tests.support.websocket import Browser


async def test_the_rung_seat_gets_the_pop_and_no_one_else(stack):
    for seat in ("1101", "1102"):
        assert stack.cli("seats", "add", seat, "--password", f"seat-{seat}-pass").returncode == 0
        assert stack.cli("users", "add", f"op{seat}", "--role", "operator", "--password",
                         f"op{seat}-password", "--seat", seat).returncode == 0
    earlier = await stack.post("/api/tickets", {"phone": "13800000501", "kind": "complaint",
                                                "content": "上个月反映的噪音问题"})
    token_a = await login_token(stack, "op1101", "op1101-password")
    token_b = await login_token(stack, "op1102", "op1102-password")
    phone_port = free_udp_port()
    phone = asyncio.create_task(answer_one_call(phone_port, timeout=60))
    await asyncio.sleep(0.5)
    assert (await register(stack.sip_port, "1101", "seat-1101-pass", phone_port)).ok
    async with aiohttp.ClientSession() as http:
        for seat, token in (("1101", token_a), ("1102", token_b)):
            async with http.post(f"{stack.base_url}/api/seats/{seat}/ready",
                                 headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200, await r.text()
        # an operator may not put somebody else's seat into the queue
        async with http.post(f"{stack.base_url}/api/seats/1101/pause",
                             headers={"Authorization": f"Bearer {token_b}"}) as r:
            assert r.status == 403

    async with Browser(stack, token_a) as seat_a, Browser(stack, token_b) as seat_b:
        citizen = asyncio.create_task(call(stack.sip_port, "13800000501",
                                           [Pause(1500), DtmfInfo("2"), Pause(14000), Hangup()]))
        pop = await seat_a.wait_for("screen_pop")
        assert pop["seat"] == "1101" and pop["caller"] == "13800000501"
        assert pop["call"]["ivr_path"] == ["complaint"]
        assert pop["ticket_draft"]["kind"] == "complaint"
        assert pop["ticket_draft"]["call_id"] == pop["call_id"]
        assert pop["waited_seconds"] is not None and pop["waited_seconds"] < 10
        assert [t["id"] for t in pop["earlier_tickets"]] == [earlier["id"]]
        assert pop["console_url"].startswith("/console?phone=13800000501")
        answered = await seat_a.wait_for("call_answered")
        assert answered["call_id"] == pop["call_id"]

        # a browser that reconnects mid-call is shown the live call at once
        async with Browser(stack, token_a) as again:
            state = await again.wait_for("call_answered", timeout=5)
            assert state["caller"] == "13800000501"

        assert (await citizen).ok
        await seat_a.wait_for("call_ended")
        await phone
        assert "screen_pop" not in seat_b.kinds() and "call_answered" not in seat_b.kinds()
        assert seat_b.kinds() == ["hello"]
