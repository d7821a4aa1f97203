"""The transfer leg's rules: whatever the unit does, the citizen is never left alone or
hung up because of it, and each click does what the operator means."""

import pytest

from ivr.transfers.legs import (
    Cancel,
    CitizenGone,
    Complete,
    Do,
    HoldTooLong,
    Leave,
    Leg,
    NotNow,
    OperatorGone,
    UnitAnswered,
    UnitGone,
    UnitRinging,
    react,
)

BUSY, REJECTED, NO_ANSWER, NORMAL = 17, 21, 19, 16


def leg(mode, **kw):
    return Leg("leg-1", "call-1", mode, "2001", unit="U1", seat="1201", **kw)


def run(start, *events):
    """Apply events in order; the final leg and every step asked for on the way."""
    steps = []
    for event in events:
        start, more = react(start, event)
        steps += more
    return start, steps


@pytest.mark.parametrize(("cause", "outcome"), [(BUSY, "busy"), (REJECTED, "rejected"),
                                                (NO_ANSWER, "no_answer"), (34, "failed")])
def test_a_failed_blind_transfer_rings_the_operator_back(cause, outcome):
    final, steps = run(leg("blind", operator_on_call=False), UnitRinging(), UnitGone(cause))
    assert final.outcome == outcome and not final.open
    assert steps == [Do("ring_back")]


def test_a_blind_transfer_answered_hands_the_citizen_over_and_ends_with_them():
    answered, steps = run(leg("blind", operator_on_call=False), UnitRinging(), UnitAnswered())
    assert answered.handed_over and answered.phase == "answered" and steps == []
    final, steps = react(answered, UnitGone(NORMAL))
    assert final.outcome == "answered"
    assert steps == [Do("hang_up", "citizen")]  # not left alone on hold music
    _, steps = react(answered, CitizenGone())
    assert steps == [Do("hang_up", "unit")]


def test_the_citizen_hanging_up_while_the_unit_rings_cancels_the_leg():
    final, steps = run(leg("blind", operator_on_call=False), UnitRinging(), CitizenGone())
    assert final.outcome == "cancelled" and steps == [Do("hang_up", "unit")]


def test_consult_then_complete_connects_citizen_and_unit_and_frees_the_operator():
    final, steps = run(leg("consult"), UnitRinging(), UnitAnswered(), Complete())
    assert final.handed_over and not final.operator_on_call
    assert steps == [Do("unit_to_room"), Do("hang_up", "operator")]


def test_consult_cancel_brings_the_operator_back_to_the_citizen():
    final, steps = run(leg("consult"), UnitRinging(), UnitAnswered(), Cancel())
    assert final.outcome == "cancelled"
    assert steps == [Do("hang_up", "unit"), Do("operator_to_room")]


def test_the_operator_hanging_up_during_a_consult_completes_it():
    final, steps = run(leg("consult"), UnitAnswered(), OperatorGone())
    assert final.handed_over and steps == [Do("unit_to_room")]


def test_the_operator_hanging_up_while_a_consult_rings_hands_over_on_answer():
    gone, steps = run(leg("consult"), UnitRinging(), OperatorGone())
    assert steps == [] and not gone.handed_over
    answered, steps = react(gone, UnitAnswered())
    assert answered.handed_over and steps == [Do("unit_to_room")]
    failed, steps = react(gone, UnitGone(BUSY))
    assert failed.outcome == "busy" and steps == [Do("ring_back")]


def test_a_busy_consult_returns_the_operator_to_the_citizen():
    final, steps = run(leg("consult"), UnitGone(BUSY))
    assert final.outcome == "busy" and steps == [Do("operator_to_room")]


def test_a_consult_held_too_long_is_withdrawn():
    final, steps = run(leg("consult"), UnitRinging(), HoldTooLong())
    assert final.outcome == "cancelled"
    assert steps == [Do("hang_up", "unit"), Do("operator_to_room")]
    # once handed over, the citizen is not on hold any more
    handed, _ = run(leg("consult"), UnitAnswered(), Complete())
    assert react(handed, HoldTooLong()) == (handed, [])


def test_a_conference_the_unit_never_answers_leaves_citizen_and_operator_talking():
    final, steps = run(leg("conference"), UnitRinging(), UnitGone(NO_ANSWER))
    assert final.outcome == "no_answer" and steps == []


def test_the_operator_leaving_a_conference_lets_citizen_and_unit_talk_on():
    left, steps = run(leg("conference"), UnitAnswered(), Leave())
    assert left.handed_over and left.open and steps == [Do("hang_up", "operator")]
    final, steps = react(left, CitizenGone())
    assert final.outcome == "answered" and steps == [Do("hang_up", "unit")]


def test_the_unit_leaving_a_conference_the_operator_stayed_in_ends_nothing_else():
    final, steps = run(leg("conference"), UnitAnswered(), UnitGone(NORMAL))
    assert final.outcome == "answered" and steps == []


def test_leaving_a_conference_before_the_unit_answers_rings_back_if_it_fails():
    final, steps = run(leg("conference"), UnitRinging(), Leave(), UnitGone(BUSY))
    assert final.outcome == "busy"
    assert steps == [Do("hang_up", "operator"), Do("ring_back")]


@pytest.mark.parametrize(("mode", "click", "why"), [
    ("blind", Cancel(), "cannot be cancelled"),
    ("blind", Complete(), "only a consult"),
    ("conference", Complete(), "only a consult"),
    ("consult", Leave(), "only a three-way"),
    ("consult", Complete(), "not answered yet"),
])
def test_clicks_that_do_not_fit_the_leg_are_refused_with_a_reason(mode, click, why):
    start = leg(mode, operator_on_call=mode != "blind")
    with pytest.raises(NotNow, match=why):
        react(start, click)


def test_nothing_happens_to_an_ended_leg_and_clicks_on_it_are_refused():
    ended, _ = run(leg("conference"), UnitGone(BUSY))
    assert react(ended, UnitAnswered()) == (ended, [])
    assert react(ended, CitizenGone()) == (ended, [])
    with pytest.raises(NotNow, match="over"):
        react(ended, Leave())


def test_a_late_ring_after_the_answer_changes_nothing():
    answered, _ = run(leg("consult"), UnitAnswered())
    assert react(answered, UnitRinging()) == (answered, [])
    assert react(answered, UnitAnswered()) == (answered, [])
