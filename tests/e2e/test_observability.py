"""What whoever runs the line sees of one real call: /metrics (read by prometheus_client's
own parser) moving, and the service's JSON log lines about the call carrying its id."""

import asyncio
import json

from tests.support.metrics import scrape, value
from tests.support.sipp import DtmfRtp, Hangup, Pause, call
from tests.support.stack import eventually

CALLER = "13800000901"


async def test_a_real_call_moves_the_metrics_and_its_log_lines_carry_its_id(stack):
    before = await scrape(stack)
    # Key 1 (consultation): to the queue, where the seat on duty never answers; hang up.
    placing = asyncio.create_task(call(
        stack.sip_port, CALLER, [Pause(1500), DtmfRtp("1"), Pause(10000), Hangup()]))

    async def waiting():
        found = await scrape(stack)
        return found if value(found, "hotline_calls_active", stage="queue") >= 1 else None

    try:
        during = await eventually(waiting, timeout=20, what="the caller counted as waiting")
    finally:
        result = await placing
    assert result.ok, result.output[-2000:]
    assert value(during, "hotline_calls_total") == value(before, "hotline_calls_total") + 1

    async def ended():
        record = await stack.call_of(CALLER)
        return record if record and record["ended"] else None

    record = await eventually(ended, what="the end of the call")

    async def abandonment_counted():
        found = await scrape(stack)
        moved = (value(found, "hotline_queue_wait_seconds_count", outcome="abandoned")
                 > value(before, "hotline_queue_wait_seconds_count", outcome="abandoned"))
        return found if moved else None

    after = await eventually(abandonment_counted, timeout=10, what="the abandonment counted")
    assert (value(after, "hotline_queue_joins_total", queue="hotline")
            == value(before, "hotline_queue_joins_total", queue="hotline") + 1)
    assert value(after, "hotline_ivr_fallbacks_total") == value(
        before, "hotline_ivr_fallbacks_total")  # the menu worked: no fallback
    assert value(after, "hotline_queue_abandonment_ratio") > 0
    assert value(after, "hotline_ami_connected") == 1

    # The service's log (HOTLINE_LOG_FORMAT=json for this stack): a line per call event,
    # each with this call's id, from the AGI route and from the AMI events alike.
    lines = [json.loads(line) for line in stack.log.read_text(errors="replace").splitlines()
             if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    about = [line for line in lines if line.get("call_id") == record["id"]]
    said = [line["message"] for line in about]
    assert "call arrived" in said
    assert "left the menu: consultation -> queue" in said
    assert "joined queue hotline (route queue)" in said
    assert any(m.startswith("hung up after ") and m.endswith(" in queue hotline") for m in said)
    assert "call ended" in said
    assert {line["logger"] for line in about} >= {"ivr.calls.tracker", "ivr.calls.call_log"}
