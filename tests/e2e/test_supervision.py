"""A supervisor listens in on a live call from their own seat phone; it is audited."""

import asyncio
import re

import aiohttp

from tests.support.phones import staffed_phones
from tests.support.sipp import (
    DtmfInfo,
    Hangup,
    Pause,
    call,
)
from tests.support.stack import eventually, login_token


async def post(stack, token, path):
    async with aiohttp.ClientSession() as http, http.post(
            stack.base_url + path, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


async def test_supervisor_listens_to_a_live_call_and_it_is_audited(stack):
    operator_phone, supervisor_phone = await staffed_phones(
        stack, ("1301", "op1301", "operator"), ("1302", "sup1302", "supervisor"))
    op_token = await login_token(stack, "op1301", "op1301-password")
    sup_token = await login_token(stack, "sup1302", "sup1302-password")
    assert (await post(stack, op_token, "/api/seats/1301/ready"))[0] == 200

    citizen = asyncio.create_task(call(stack.sip_port, "13800000701",
                                       [Pause(1500), DtmfInfo("0"), Pause(16000), Hangup()]))

    async def answered():
        record = await stack.call_of("13800000701")
        return record if record and record["seat"] == "1301" and not record["ended"] else None

    record = await eventually(answered, what="the operator on the call")
    status, _denied = await post(stack, op_token, f"/api/calls/{record['id']}/listen")
    assert status == 403, "operators do not listen in"
    status, action = await post(stack, sup_token, f"/api/calls/{record['id']}/listen")
    assert status == 201, action
    assert (action["mode"], action["target_seat"], action["supervisor"]) == (
        "listen", "1301", "sup1302")

    assert (await citizen).ok
    supervisor_trace = await supervisor_phone
    await operator_phone
    assert "INVITE sip:1302@127.0.0.1" in supervisor_trace, "the supervisor's phone rang"
    assert re.search(r"Attaching spy channel PJSIP/1302-\w+ to PJSIP/1301-\w+",
                     stack.asterisk_log()), "the supervisor's phone joined the operator's leg"
    log = await stack.get("/api/supervision")
    assert log["items"][0]["call_id"] == record["id"]
    assert log["items"][0]["result"] == "supervisor phone ringing"
    await eventually(lambda: _ended(stack, "13800000701"), what="the call's end")
    status, _refused = await post(stack, sup_token, f"/api/calls/{record['id']}/barge")
    assert status == 409, "a call that has ended cannot be barged into"


async def _ended(stack, caller):
    record = await stack.call_of(caller)
    return record if record and record["ended"] else None
