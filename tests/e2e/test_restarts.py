"""AMI and Asterisk going away during calls: the service reconnects, re-reads the live
state, closes what ended meanwhile, restores the seats, and keeps taking calls."""

import asyncio
import os
import signal

import pytest

from ivr.main import Hotline
from ivr.settings import Settings
from tests.support.sipp import DtmfInfo, Hangup, Pause, call
from tests.support.stack import eventually, seat_on_duty, stack_env


@pytest.fixture
async def hotline(tmp_path):
    service = Hotline(Settings.from_env(stack_env(tmp_path / "home")))
    await service.start()
    await seat_on_duty(service)
    yield service
    await service.stop()


async def record_of(hotline, caller, predicate, what, timeout=30):
    async def check():
        items, _ = await hotline.call_log.search(caller=caller)
        return items[0] if items and predicate(items[0]) else None

    return await eventually(check, timeout=timeout, what=what)


async def test_a_hangup_while_ami_is_away_still_closes_the_record(hotline):
    placing = asyncio.create_task(call(hotline.settings.sip_port, "13900000601",
                                       [Pause(1500), DtmfInfo("0"), Pause(9000), Hangup()]))
    await record_of(hotline, "13900000601", lambda c: c.queue == "hotline", "in the queue")
    await hotline.ami.stop()  # the service stops hearing Asterisk...
    assert (await placing).ok  # ...while the caller hangs up
    items, _ = await hotline.call_log.search(caller="13900000601")
    assert items[0].ended is None, "no event could have closed it"
    await hotline.ami.start()
    record = await record_of(hotline, "13900000601", lambda c: c.ended is not None,
                             "closed by the resync")
    assert record.outcome == "abandoned"
    assert hotline.tracker.resyncs >= 2


async def test_a_kicked_ami_session_comes_back_by_itself(hotline):
    before = hotline.ami.connections
    listing = await hotline.asterisk.rx("manager show connected")
    descriptor = listing.split("hotline", 1)[1].split()[3]
    await hotline.asterisk.rx(f"manager kick session {descriptor}")
    await eventually(lambda: _value(hotline.ami.connections > before), timeout=10,
                     what="AMI reconnect")
    assert (await hotline.health())["ami"] == "up"


async def _value(value):
    return value


async def test_asterisk_killed_mid_call_is_restarted_and_records_stay_complete(hotline):
    await hotline.seats.add("1201", "seat-1201-pass", "值班席")
    await hotline.seats.set_state("1201", paused=False)
    placing = asyncio.create_task(call(hotline.settings.sip_port, "13900000602",
                                       [Pause(1500), DtmfInfo("0"), Pause(30000), Hangup()],
                                       timeout=60))
    await record_of(hotline, "13900000602", lambda c: c.queue == "hotline", "in the queue")
    old_pid = hotline.asterisk.pid
    os.kill(old_pid, signal.SIGKILL)

    async def healthy_again():
        state = await hotline.health()
        return hotline.asterisk.pid != old_pid and all(v == "up" for v in state.values())

    await eventually(healthy_again, timeout=30, what="Asterisk restarted and AMI back")
    record = await record_of(hotline, "13900000602", lambda c: c.ended is not None,
                             "the dead call closed")
    assert record.outcome == "abandoned" and "not listening" in (record.hangup_cause or "")
    assert record.queue == "hotline" and record.started < record.ended

    async def seat_back():
        return "Seat 1201" in await hotline.asterisk.rx("queue show hotline")

    await eventually(seat_back, timeout=15, what="the ready seat restored to the queue")
    # and the hotline keeps answering
    result = await call(hotline.settings.sip_port, "13900000603",
                        [Pause(1500), DtmfInfo("0"), Pause(8000), Hangup()])
    assert result.ok, result.output[-1500:]
    after = await record_of(hotline, "13900000603", lambda c: c.ended is not None, "new call")
    assert after.ivr_path == ["operator"] and after.queue == "hotline"
    placing.cancel()
    await asyncio.gather(placing, return_exceptions=True)
