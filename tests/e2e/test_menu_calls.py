"""Real SIP calls into the real Asterisk and the Python IVR; the records tell where each went."""

import asyncio

from tests.support.sipp import DtmfInfo, DtmfRtp, Hangup, Pause, answer_one_call, call
from tests.support.stack import eventually


async def call_while_watching(stack, caller, steps, until):
    """Place a call; while it is up, wait until its live record satisfies `until`."""
    placing = asyncio.create_task(call(stack.sip_port, caller, steps))

    async def live_record():
        record = await stack.call_of(caller)
        return record if record and until(record) else None

    try:
        live = await eventually(live_record, timeout=30, what=f"live state of {caller}")
    finally:
        result = await placing
    assert result.ok, result.output[-2000:]
    final = await eventually(lambda: _ended(stack, caller), what=f"end of {caller}")
    return live, final


async def _ended(stack, caller):
    record = await stack.call_of(caller)
    return record if record and record["ended"] else None


def in_queue(record):
    return record["queue"] == "hotline" and record["ended"] is None


async def test_rfc4733_key_takes_a_consultation_to_the_queue(stack):
    live, final = await call_while_watching(
        stack, "13800000101", [Pause(1500), DtmfRtp("1"), Pause(13000), Hangup()], in_queue)
    assert live["ivr_path"] == ["consultation"]
    assert final["request_kind"] == "consultation" and final["route"] == "queue"
    assert final["outcome"] == "abandoned"
    assert final["wait_seconds"] is not None and final["wait_seconds"] >= 0
    # every call is recorded, and the recording is served
    wav = await stack.get(final["recording"])
    assert wav[:4] == b"RIFF" and len(wav) > 8000


async def test_sip_info_key_takes_a_complaint_to_the_queue(stack):
    _live, final = await call_while_watching(
        stack, "13800000102", [Pause(1500), DtmfInfo("2"), Pause(13000), Hangup()], in_queue)
    assert final["ivr_path"] == ["complaint"]
    assert final["request_kind"] == "complaint"


async def test_every_other_branch_lands_in_the_queue_with_its_path(stack):
    branches = {
        "13800000103": ([DtmfInfo("3")], ["help"]),
        "13800000104": ([DtmfRtp("4")], ["suggestion"]),
        "13800000105": ([DtmfInfo("0")], ["operator"]),
        "13800000106": ([DtmfInfo("9"), Pause(1500), DtmfInfo("0")], ["repeat", "operator"]),
        "13800000107": ([DtmfInfo("5"), Pause(1500), DtmfInfo("2"), DtmfInfo("0"),
                         DtmfInfo("2"), DtmfInfo("6"), DtmfInfo("#"), Pause(6000),
                         DtmfInfo("0")],
                        ["progress", "ticket:2026", "operator"]),
        "13800000108": ([DtmfInfo("7"), Pause(4000), DtmfInfo("#"), Pause(4000),
                         DtmfRtp("6")],
                        ["invalid:7", "invalid:#", "invalid:6"]),
    }

    async def run(caller, keys, path):
        steps = [Pause(1500), *keys, Pause(13000), Hangup()]
        _live, final = await call_while_watching(stack, caller, steps, in_queue)
        return caller, path, final

    results = await asyncio.gather(*(run(c, k, p) for c, (k, p) in branches.items()))
    for caller, path, final in results:
        assert final["ivr_path"] == path, caller
        assert final["queue"] == "hotline", caller
        assert final["outcome"] == "abandoned", caller


async def test_hangup_during_the_welcome_is_recorded_cleanly(stack):
    result = await call(stack.sip_port, "13800000109", [Pause(1200), Hangup()])
    assert result.ok, result.output[-2000:]
    final = await eventually(lambda: _ended(stack, "13800000109"), what="record")
    assert final["ivr_path"] == []
    assert final["outcome"] == "hangup_in_ivr"
    assert final["queue"] is None


async def test_emergency_key_transfers_to_110_through_the_trunk(stack):
    trunk = asyncio.create_task(answer_one_call(stack.trunk_port))
    await asyncio.sleep(0.5)  # let the trunk bind its port
    result = await call(stack.sip_port, "13800000110",
                        [Pause(1500), DtmfInfo("8"), Pause(1500), DtmfInfo("1"), Pause(9000),
                         Hangup()])
    trace = await trunk
    assert result.ok, result.output[-2000:]
    assert "INVITE sip:110@127.0.0.1" in trace, trace[-2000:]
    final = await eventually(lambda: _ended(stack, "13800000110"), what="record")
    assert final["ivr_path"] == ["emergency", "emergency:110"]
    assert final["route"] == "emergency"
    assert [(t["number"], t["outcome"]) for t in final["transfers"]] == [("110", "answered")]
    assert final["outcome"] == "transferred"


async def test_calls_can_be_filtered_and_are_complete(stack):
    await call(stack.sip_port, "13800000111", [Pause(1500), DtmfInfo("0"), Pause(6000),
                                               Hangup()])
    final = await eventually(lambda: _ended(stack, "13800000111"), what="record")
    page = await stack.get("/api/calls", caller="13800000111", active="false")
    assert page["total"] == 1 and page["items"][0]["id"] == final["id"]
    detail = await stack.get(f"/api/calls/{final['id']}")
    assert detail["started"] <= detail["ended"]
    assert detail["caller"] == "13800000111"


async def test_waiting_callers_hear_their_position_in_mandarin(stack):
    first = asyncio.create_task(call_while_watching(
        stack, "13800000112", [Pause(1500), DtmfInfo("0"), Pause(20000), Hangup()], in_queue))
    await eventually(lambda: _queued(stack, "13800000112"), what="the first caller queued")
    _live, second = await call_while_watching(
        stack, "13800000113", [Pause(1500), DtmfInfo("0"), Pause(10000), Hangup()], in_queue)
    _live, first_final = await first
    heard_first = stack.prompts_played(first_final["id"])
    heard_second = stack.prompts_played(second["id"])
    assert "queue-youarenext" in heard_first, heard_first
    # the second hears "您前面还有" + a number + "位来电人在等候"
    at = heard_second.index("queue-thereare")
    assert heard_second[at + 1].isdigit() and heard_second[at + 2] == "queue-callswaiting"
    lines = "\n".join(stack.channel_lines(second["id"]))
    assert "(language 'zh')" in lines and "does not exist" not in lines


async def _queued(stack, caller):
    record = await stack.call_of(caller)
    return record if record and record["queue"] == "hotline" else None
