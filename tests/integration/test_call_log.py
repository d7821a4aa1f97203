"""Call records: two writers (AGI and AMI) in any order, outcomes, search."""

from datetime import UTC, datetime, timedelta

import pytest

from ivr.calls.call_log import CallLog, new_leg
from ivr.calls.tracker import dial_result
from ivr.errors import NotFound


@pytest.fixture
def calls(db):
    return CallLog(db, "/rec")


async def test_ami_first_then_agi_keeps_one_record_with_the_caller(calls):
    await calls.call_arrived("1.1", "")
    await calls.call_arrived("1.1", "13800000000")
    call = await calls.get("1.1")
    assert call.caller == "13800000000"
    assert call.recording == "/rec/1.1.wav"
    _, total = await calls.search()
    assert total == 1


async def test_agi_first_then_ami_does_not_overwrite(calls):
    await calls.menu_left("1.2", "13800000000", ["progress"])
    await calls.call_arrived("1.2", "other")
    call = await calls.get("1.2")
    assert (call.caller, call.ivr_path) == ("13800000000", ["progress"])
    assert call.recording == "/rec/1.2.wav"


async def test_menu_left_keeps_what_ami_recorded(calls):
    t0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    await calls.call_arrived("1.3", "13800000000", at=t0)
    await calls.menu_left("1.3", "13800000000", ["timeout", "help"], "queue", "help")
    call = await calls.get("1.3")
    assert (call.started, call.route, call.request_kind) == (t0, "queue", "help")
    assert call.ivr_path == ["timeout", "help"]


async def test_hangup_in_the_menu(calls):
    await calls.call_arrived("2.1", "139")
    await calls.menu_left("2.1", "139", ["timeout"])
    await calls.ended("2.1", "Normal Clearing")
    call = await calls.get("2.1")
    assert call.outcome == "hangup_in_ivr"
    assert call.ended is not None and call.ended.tzinfo is not None


async def test_abandoned_in_the_queue_has_its_wait(calls):
    t0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    await calls.call_arrived("3.1", "139", at=t0)
    await calls.menu_left("3.1", "139", ["complaint"], "queue", "complaint")
    await calls.queued("3.1", "hotline", at=t0 + timedelta(seconds=10))
    await calls.ended("3.1", at=t0 + timedelta(seconds=52))
    call = await calls.get("3.1")
    assert (call.outcome, call.queue, call.wait_seconds) == ("abandoned", "hotline", 42.0)
    assert call.request_kind == "complaint"


async def test_answered_by_a_seat(calls):
    await calls.call_arrived("4.1", "139")
    await calls.queued("4.1", "hotline")
    await calls.answered("4.1", "1001", 7.5)
    await calls.ended("4.1")
    call = await calls.get("4.1")
    assert (call.outcome, call.seat, call.wait_seconds) == ("answered", "1001", 7.5)


async def test_emergency_transfer_answered(calls):
    await calls.call_arrived("5.1", "139")
    await calls.menu_left("5.1", "139", ["emergency", "emergency:120"], "emergency")
    await calls.leg_added("5.1", new_leg("5.2", "blind", "120"))
    await calls.leg_changed("5.1", "5.2", dial_result("ANSWER"))
    await calls.ended("5.1")
    call = await calls.get("5.1")
    assert call.outcome == "transferred"
    [leg] = call.transfers
    assert (leg["number"], leg["outcome"], leg["unit"]) == ("120", "answered", None)
    assert leg["requested"] <= leg["answered"] <= leg["ended"]  # closed with the call


async def test_a_leg_still_ringing_when_the_call_ends_is_cancelled(calls):
    await calls.call_arrived("5.3", "139")
    await calls.answered("5.3", "1001", 1.0)
    await calls.leg_added("5.3", new_leg("5.4", "consult", "2001", "U1"))
    await calls.ended("5.3")
    call = await calls.get("5.3")
    assert call.outcome == "answered"
    assert [(t["leg"], t["outcome"]) for t in call.transfers] == [("5.4", "cancelled")]


async def test_a_second_hangup_changes_nothing(calls):
    t0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    await calls.call_arrived("6.1", "139", at=t0)
    await calls.ended("6.1", "first", at=t0 + timedelta(seconds=5))
    await calls.ended("6.1", "second", at=t0 + timedelta(seconds=9))
    call = await calls.get("6.1")
    assert (call.hangup_cause, call.ended) == ("first", t0 + timedelta(seconds=5))


async def test_updates_for_unknown_calls_are_harmless(calls):
    await calls.queued("nope", "hotline")
    await calls.ended("nope")
    with pytest.raises(NotFound):
        await calls.get("nope")


async def test_search_filters_and_pages(calls):
    t0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    for i in range(5):
        await calls.call_arrived(f"7.{i}", "138" if i % 2 else "139", at=t0 + timedelta(minutes=i))
    await calls.ended("7.0")
    items, total = await calls.search(caller="139")
    assert total == 3 and [c.id for c in items] == ["7.4", "7.2", "7.0"]
    items, total = await calls.search(active=True)
    assert total == 4 and "7.0" not in {c.id for c in items}
    items, total = await calls.search(since=t0 + timedelta(minutes=3))
    assert total == 2
    items, total = await calls.search(limit=2, offset=2)
    assert total == 5 and [c.id for c in items] == ["7.2", "7.1"]
    assert await calls.open_call_ids() == {"7.1", "7.2", "7.3", "7.4"}
