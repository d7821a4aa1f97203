"""Staffed hours with a real Asterisk: outside them the night seats answer; with no night
seat signed in the caller hears why and leaves a message; a schedule edited live changes
where the next call goes, without a restart."""

import asyncio
from pathlib import Path

import pytest

from ivr.main import Hotline
from ivr.schedule.hours import Schedule, save
from ivr.settings import Settings
from tests.support.sipp import (
    DtmfInfo,
    Hangup,
    Pause,
    answer_one_call,
    call,
    free_udp_port,
    register,
)
from tests.support.stack import eventually, stack_env

NIGHT = Schedule(always_staffed=True, override="night")


@pytest.fixture
async def night_hotline(tmp_path):
    home = tmp_path / "home"
    save(home / "schedule.toml", NIGHT)  # the line starts outside staffed hours
    service = Hotline(Settings.from_env(stack_env(home)))
    await service.start()
    yield service
    await service.stop()


async def staffed_global(hotline) -> str:
    shown = await hotline.asterisk.rx("dialplan show globals")
    line = next(x for x in shown.splitlines() if "HOTLINE_STAFFED" in x)
    return line.split("=", 1)[1].strip()


async def ended_record(hotline, caller):
    async def check():
        items, _ = await hotline.call_log.search(caller=caller)
        return items[0] if items and items[0].ended else None

    return await eventually(check, timeout=40, what=f"the end of {caller}'s call")


async def test_outside_staffed_hours_the_night_seat_answers_then_a_live_edit_brings_day(
        night_hotline):
    hotline = night_hotline
    assert await staffed_global(hotline) == "no"
    await hotline.seats.add("1701", "seat-1701-pass")  # a day seat, signed in, never answers
    await hotline.seats.set_state("1701", paused=False)
    night = await hotline.seats.add("1702", "seat-1702-pass", "夜班", night=True)
    assert night["night"] is True
    phone_port = free_udp_port()
    phone = asyncio.create_task(answer_one_call(phone_port, timeout=60))
    await asyncio.sleep(0.5)
    assert (await register(hotline.settings.sip_port, "1702", "seat-1702-pass",
                           phone_port)).ok
    await hotline.seats.set_state("1702", paused=False)
    queues = await hotline.asterisk.rx("queue show hotline-night")
    assert "Seat 1702" in queues and "Seat 1701" not in queues

    await call(hotline.settings.sip_port, "13900001701",
               [Pause(1500), DtmfInfo("0"), Pause(10000), Hangup()], timeout=60)
    trace = await phone
    assert "INVITE sip:1702@127.0.0.1" in trace, "the night seat's phone rang"
    record = await ended_record(hotline, "13900001701")
    assert (record.queue, record.seat, record.outcome) == ("hotline-night", "1702",
                                                          "answered")

    # The supervisor calls the day shift in early: applied at once, written to the file.
    view = await hotline.staffing.update({"always_staffed": True, "override": "staffed"})
    assert view["staffed"] is True
    assert await staffed_global(hotline) == "yes"
    stored = await asyncio.to_thread((hotline.settings.home / "schedule.toml").read_text)
    assert 'override = "staffed"' in stored
    await call(hotline.settings.sip_port, "13900001702",
               [Pause(1500), DtmfInfo("0"), Pause(5000), Hangup()], timeout=60)
    record = await ended_record(hotline, "13900001702")
    assert record.queue == "hotline", "in staffed hours the day seats' queue takes the call"
    assert record.outcome == "abandoned"


async def test_at_night_with_no_night_seat_the_caller_hears_why_and_leaves_a_message(
        night_hotline):
    hotline = night_hotline
    await hotline.seats.add("1703", "seat-1703-pass")  # a day seat only
    await hotline.seats.set_state("1703", paused=False)
    await call(hotline.settings.sip_port, "13900001703",
               [Pause(1500), DtmfInfo("0"), Pause(20000), Hangup()], timeout=60)
    record = await ended_record(hotline, "13900001703")
    assert record.queue is None, "no ring into a queue nobody answers at night"
    assert (record.route, record.outcome) == ("message", "message_left")
    log = Path(hotline.settings.asterisk_dir / "log" / "messages.log")
    played = await asyncio.to_thread(log.read_text, errors="replace")
    assert "after_hours" in played, "the caller is told it is outside staffed hours"
    tasks, total = await hotline.callbacks.list("open", 10, 0)
    assert total == 1 and tasks[0]["phone"] == "13900001703"


async def test_an_edited_schedule_file_is_applied_live(night_hotline, monkeypatch):
    hotline = night_hotline
    monkeypatch.setattr("ivr.schedule.staffing.TICK_SECONDS", 0.2)
    await hotline.staffing.stop()
    await hotline.staffing.start()  # tick faster, as the admin would not wait 10 s in a test
    path = hotline.settings.home / "schedule.toml"
    await asyncio.to_thread(save, path, Schedule(always_staffed=True))

    async def staffed_is(value: str):
        async def check() -> bool:
            return await staffed_global(hotline) == value
        return check

    await eventually(await staffed_is("yes"), timeout=10, what="day after the file edit")
    # A dialplan reload resets globals to the rendered start value ("no"); the next tick
    # puts the schedule's answer back.
    await hotline.asterisk.rx("dialplan reload")
    await eventually(await staffed_is("yes"), timeout=10, what="day after a dialplan reload")
    await asyncio.to_thread(save, path, NIGHT)
    await eventually(await staffed_is("no"), timeout=10, what="night after the file edit")
    await asyncio.to_thread(path.write_text, "always_staffed = maybe\n")
    await asyncio.sleep(1.5)
    # Not the city's 7×24 default: the last good schedule stays in force.
    assert await staffed_global(hotline) == "no", "a broken file keeps the last good one"
