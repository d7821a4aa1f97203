"""What a log line says (HOTLINE_LOG_FORMAT) and which call it is about."""

import asyncio
import io
import json
import logging

import pytest

from ivr.log_format import CallIdFilter, bind_call, call_context, current_call, formatter_for


@pytest.fixture
def lines():
    """A logger writing through the service's filter, in the format asked for."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(CallIdFilter())
    log = logging.getLogger("hotline.test")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    def use(log_format):
        handler.setFormatter(formatter_for(log_format))
        return log, lambda: out.getvalue().splitlines()

    yield use
    log.removeHandler(handler)


def test_a_json_line_about_a_call_carries_its_id_and_one_about_none_does_not(lines):
    log, written = lines("json")
    log.info("service ready")
    with call_context("1700000000.1"):
        log.warning("caller %s pressed %s", "13800000000", "1")
    first, second = (json.loads(line) for line in written())
    assert list(first) == ["time", "level", "logger", "message"]
    assert first["level"] == "INFO" and first["logger"] == "hotline.test"
    assert first["time"].endswith("+00:00")  # ISO 8601, UTC
    assert second == {**second, "level": "WARNING", "call_id": "1700000000.1",
                      "message": "caller 13800000000 pressed 1"}


def test_a_json_line_keeps_chinese_readable_and_the_exception(lines):
    log, written = lines("json")
    with call_context("1700000000.2"):
        try:
            raise ValueError("工单号无效")
        except ValueError:
            log.exception("菜单失败")
    (line,) = written()
    assert "菜单失败" in line  # not \u escapes
    record = json.loads(line)
    assert record["call_id"] == "1700000000.2"
    assert "ValueError: 工单号无效" in record["exception"]


def test_text_lines_stay_as_they_were_with_the_call_when_there_is_one(lines):
    log, written = lines("text")
    log.info("service ready")
    with call_context("1700000000.3"):
        log.info("queued")
    plain, about_call = written()
    assert plain.endswith(" INFO hotline.test: service ready")
    assert about_call.endswith(" INFO hotline.test [call 1700000000.3]: queued")


async def test_tasks_and_timers_started_for_a_call_keep_its_id_and_others_do_not():
    seen = {}

    async def later(name):
        seen[name] = current_call()

    with call_context("c1"):
        task = asyncio.create_task(later("task"))
        asyncio.get_running_loop().call_soon(lambda: seen.update(timer=current_call()))
    other = asyncio.create_task(later("other"))
    await asyncio.gather(task, other)
    await asyncio.sleep(0)
    assert seen == {"task": "c1", "timer": "c1", "other": None}
    assert current_call() is None  # the block's end restored it


async def test_a_task_bound_to_a_call_keeps_it_to_its_end_only():
    async def serve():
        bind_call("c2")
        await asyncio.sleep(0)
        return current_call()

    assert await asyncio.create_task(serve()) == "c2"
    assert current_call() is None
