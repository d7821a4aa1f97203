"""Nobody logged in: callers leave a message. While waiting: 1 for a callback, 2 for a
message. Each becomes one task with a ticket draft on the operators' list."""

import asyncio
from pathlib import Path

import pytest

from ivr.main import Hotline
from ivr.settings import Settings
from tests.support.sipp import DtmfInfo, Hangup, Pause, call
from tests.support.stack import eventually, stack_env


@pytest.fixture
async def hotline(tmp_path):
    service = Hotline(Settings.from_env(stack_env(tmp_path / "home")))
    await service.start()
    yield service
    await service.stop()


async def ended_record(hotline, caller):
    async def check():
        items, _ = await hotline.call_log.search(caller=caller)
        return items[0] if items and items[0].ended else None

    return await eventually(check, timeout=30, what=f"the end of {caller}'s call")


async def test_with_nobody_logged_in_the_caller_leaves_a_message(hotline):
    # the caller chooses help, then speaks (the echoed prompt) and falls silent
    result = await call(hotline.settings.sip_port, "13900000901",
                        [Pause(1500), DtmfInfo("3"), Pause(30000), Hangup()], timeout=60)
    record = await ended_record(hotline, "13900000901")
    assert record.queue is None, "nobody was logged in: the queue was never entered"
    assert (record.route, record.outcome) == ("message", "message_left")
    tasks, total = await hotline.callbacks.list("open", 10, 0)
    assert total == 1
    task = tasks[0]
    assert (task["kind"], task["phone"], task["call_id"]) == ("message", "13900000901",
                                                              record.id)
    assert task["draft"]["kind"] == "help" and task["draft"]["phone"] == "13900000901"
    stored = await hotline.callbacks.get(task["id"])
    assert stored.recording
    size = await asyncio.to_thread(lambda: Path(stored.recording).stat().st_size)
    assert size > 8000, "the message holds audio"
    assert result.ok or "BYE" in result.output


async def test_a_waiting_caller_presses_1_for_a_callback(hotline):
    await hotline.seats.add("1501", "seat-1501-pass")
    await hotline.seats.set_state("1501", paused=False)  # logged in, phone not registered
    placing = asyncio.create_task(call(hotline.settings.sip_port, "13900000902",
                                       [Pause(1500), DtmfInfo("4"), Pause(9000),
                                        DtmfInfo("1"), Pause(8000), Hangup()], timeout=60))

    async def queued():
        items, _ = await hotline.call_log.search(caller="13900000902")
        return items[0] if items and items[0].queue == "hotline" else None

    await eventually(queued, timeout=30, what="the caller waiting")
    await placing
    record = await ended_record(hotline, "13900000902")
    assert record.outcome == "callback_requested"
    tasks, _ = await hotline.callbacks.list("open", 10, 0)
    assert [(t["kind"], t["phone"]) for t in tasks] == [("callback", "13900000902")]
    assert tasks[0]["draft"]["kind"] == "suggestion"
    done = await hotline.callbacks.done(tasks[0]["id"], "op1", "已回电，来电人提出修路建议")
    assert done["done_by"] == "op1"
    assert (await hotline.callbacks.list("open", 10, 0))[1] == 0


async def test_a_waiting_caller_presses_2_to_leave_a_message(hotline):
    await hotline.seats.add("1502", "seat-1502-pass")
    await hotline.seats.set_state("1502", paused=False)
    await call(hotline.settings.sip_port, "13900000903",
               [Pause(1500), DtmfInfo("0"), Pause(9000), DtmfInfo("2"), Pause(25000),
                Hangup()], timeout=60)
    record = await ended_record(hotline, "13900000903")
    assert record.queue == "hotline" and record.outcome == "message_left"
    tasks, total = await hotline.callbacks.list("open", 10, 0)
    assert total == 1 and tasks[0]["kind"] == "message" and tasks[0]["recording"]
