"""The supervisor's numbers on a known set of calls."""

from datetime import timedelta

from ivr.calls.call_log import CallLog
from ivr.live_view.service import LiveView
from ivr.seats.service import SeatService
from store.db import utcnow


async def test_queue_numbers_and_seats(db, tmp_path):
    calls = CallLog(db)
    now = utcnow()
    for call_id, wait, answered in (("a", 10, True), ("b", 20, True), ("c", 30, False)):
        await calls.call_arrived(call_id, "138", at=now - timedelta(minutes=5))
        await calls.queued(call_id, "hotline", at=now - timedelta(minutes=4))
        if answered:
            await calls.answered(call_id, "1001", wait)
    await calls.ended("b")
    await calls.ended("c")  # never answered: abandoned
    await calls.call_arrived("d", "139", at=now - timedelta(seconds=40))
    await calls.queued("d", "hotline", at=now - timedelta(seconds=30))
    seats = SeatService(db, tmp_path, "127.0.0.1", "hotline", "hotline-night")
    await seats.add("1001", "seat-1001-pass", "张丽")
    await seats.add("1002", "seat-1002-pass")

    state = await LiveView(db, "hotline", "Asia/Shanghai").snapshot()
    q = state["queue"]
    assert (q["waiting"], q["answered_today"], q["abandoned_today"]) == (1, 2, 1)
    assert 29 <= q["longest_wait_seconds"] <= 32
    assert q["service_level"] == round(1 / 3, 4)  # answered within 15 s: only "a"
    assert q["abandonment_rate"] == round(1 / 3, 4)
    by_seat = {s["seat"]: s for s in state["seats"]}
    assert by_seat["1001"]["state"] == "on_call" and by_seat["1001"]["call_id"] == "a"
    assert by_seat["1002"]["state"] == "off"
    assert {c["id"] for c in state["calls"]} == {"a", "d"}
