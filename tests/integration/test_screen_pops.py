"""Screen pops take the call tracker's facts without making it wait, keep each call's facts
in order, and build different calls' pops side by side (real call log and tickets on
SQLite; one call's record read is held back to make a slow pop)."""

import asyncio

import pytest

from ivr.calls.call_log import CallLog
from ivr.calls.facts import SeatMissed, SeatRang
from ivr.main import build_ticket_service
from ivr.screen_pops.service import ScreenPops
from ivr.settings import Settings


class HeldCallLog(CallLog):
    """Reading one call's record waits until the test lets it go."""

    def __init__(self, db, held_call: str) -> None:
        super().__init__(db)
        self.held_call = held_call
        self.release = asyncio.Event()

    async def get(self, call_id: str):
        if call_id == self.held_call:
            await self.release.wait()
        return await super().get(call_id)


@pytest.fixture
async def setup(db):
    calls = HeldCallLog(db, "slow.1")
    for call_id, caller in (("slow.1", "13800000001"), ("fast.1", "13800000002")):
        await calls.call_arrived(call_id, caller)
    tickets = build_ticket_service(db, Settings.from_env({"HOTLINE_DB_URL": db.url}))
    pops = ScreenPops(calls, tickets)
    yield calls, pops
    await pops.stop()


async def test_a_slow_pop_holds_up_neither_the_tracker_nor_other_calls(setup):
    calls, pops = setup
    seat_a, seat_b = pops.subscribe("2001"), pops.subscribe("2002")
    await asyncio.wait_for(pops.on_fact(SeatRang("slow.1", "2001", "13800000001", "q")), 0.5)
    await asyncio.wait_for(pops.on_fact(SeatRang("fast.1", "2002", "13800000002", "q")), 0.5)
    pop_b = await asyncio.wait_for(seat_b.get(), 5)
    assert (pop_b["type"], pop_b["call_id"]) == ("screen_pop", "fast.1")
    assert seat_a.empty()  # still being built
    calls.release.set()
    pop_a = await asyncio.wait_for(seat_a.get(), 5)
    assert (pop_a["type"], pop_a["caller"]) == ("screen_pop", "13800000001")


async def test_a_ring_that_stops_while_its_pop_is_built_leaves_nothing_stale(setup):
    calls, pops = setup
    seat = pops.subscribe("2001")
    await pops.on_fact(SeatRang("slow.1", "2001", "13800000001", "q"))
    await pops.on_fact(SeatMissed("slow.1", "2001"))
    calls.release.set()
    await asyncio.wait_for(pops.idle(), 5)
    got = [seat.get_nowait()["type"] for _ in range(seat.qsize())]
    assert got == ["screen_pop", "ring_stopped"]
    assert pops.subscribe("2001").empty()  # a browser reconnecting now sees no old pop
