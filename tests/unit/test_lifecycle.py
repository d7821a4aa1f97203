"""Every lifecycle step, legal and refused, with the reasons the rules give."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tickets.calendar import WorkCalendar
from tickets.errors import InvalidField, NotPermitted, StepRefused
from tickets.lifecycle import Actor, Context, TicketFacts, decide
from tickets.rules import rules_for

OPERATOR = Actor("op1", "operator")
SUPERVISOR = Actor("sup", "supervisor")
UNIT = Actor("water-clerk", "unit", unit="water")
OTHER_UNIT = Actor("road-clerk", "unit", unit="roads")
MON = date(2026, 11, 16)  # an ordinary working week: Mon 16 .. Fri 20 November 2026
GOOD_REPLY = {"content": "经现场核查，管道破裂已于11月18日修复，供水恢复正常，并已告知来电人。",
              "responder": "李工", "responder_phone": "0558-1234567", "approved_by": "王局长"}


def ctx(actor=OPERATOR, today=MON):
    return Context(actor, datetime(today.year, today.month, today.day, 9, tzinfo=UTC), today,
                   rules_for("mengcheng"), WorkCalendar())


def facts(status="accepted", **kw):
    return TicketFacts(status=status, kind=kw.pop("kind", "complaint"),
                       channel=kw.pop("channel", "phone"), **kw)


def dispatched(**kw):
    step = decide("dispatch", facts(), {"unit": "water"}, ctx())
    c = step.changes
    return facts("dispatched", lead_unit="water", co_units=tuple(c["co_units"]),
                 dispatched_on=c["dispatched_on"], deadline=c["deadline"], **kw)


def processing(**kw):
    return replace(dispatched(**kw), status="processing",
                   signed_at=datetime(2026, 11, 16, 10, tzinfo=UTC))


def test_dispatch_sets_the_legal_deadlines():
    step = decide("dispatch", facts(), {"unit": "water", "requirements": "三日内联系"}, ctx())
    assert step.status == "dispatched" and step.event == "ticket.dispatched"
    assert step.changes["deadline"] == date(2026, 11, 30)  # 10 working days after Mon 16
    assert step.changes["sign_deadline"] == date(2026, 11, 17)
    assert step.changes["return_deadline"] == date(2026, 11, 17)
    assert step.changes["disposal_mode"] == "network_dispatch"


def test_consultations_get_three_working_days():
    step = decide("dispatch", facts(kind="consultation"), {"unit": "water"}, ctx())
    assert step.changes["deadline"] == date(2026, 11, 19)


def test_joint_handling_names_a_lead_and_co_units():
    step = decide("dispatch", facts(), {"unit": "water", "co_units": ["roads", "roads"]}, ctx())
    assert step.changes["co_units"] == ["roads"]
    assert step.changes["disposal_mode"] == "joint_handling"
    with pytest.raises(InvalidField) as err:
        decide("dispatch", facts(), {"unit": "water", "co_units": ["water"]}, ctx())
    assert err.value.field == "co_units"


def test_dispatch_needs_a_unit():
    with pytest.raises(InvalidField) as err:
        decide("dispatch", facts(), {}, ctx())
    assert err.value.field == "unit"


def test_a_unit_signs_then_contacts_then_replies():
    t = dispatched()
    signed = decide("sign", t, {}, ctx(UNIT))
    assert (signed.status, signed.changes["signed_late"]) == ("processing", False)
    t = processing()
    first = decide("contact", t, {"note": "电话联系来电人，约定上门"}, ctx(UNIT))
    assert first.changes["first_contact_late"] is False and first.detail["first"] is True
    again = decide("contact", replace(t, first_contact_at=datetime(2026, 11, 16, tzinfo=UTC)),
                   {"note": "办结后回告"}, ctx(UNIT))
    assert again.changes == {} and again.detail["first"] is False
    replied = decide("reply", t, GOOD_REPLY, ctx(UNIT))
    assert replied.status == "replied" and replied.changes["responder"] == "李工"


def test_signing_late_and_contacting_late_are_recorded():
    late = ctx(UNIT, today=date(2026, 11, 18))  # due Tue 17
    assert decide("sign", dispatched(), {}, late).changes["signed_late"] is True
    assert decide("contact", processing(), {"note": "联系"}, ctx(UNIT, date(2026, 11, 19))
                  ).changes["first_contact_late"] is True


def test_units_act_only_on_their_own_tickets():
    with pytest.raises(NotPermitted):
        decide("sign", dispatched(), {}, ctx(OTHER_UNIT))
    co = replace(dispatched(), co_units=("roads",))
    assert decide("sign", co, {}, ctx(OTHER_UNIT)).status == "processing"
    with pytest.raises(NotPermitted, match="lead unit"):
        decide("return", co, {"reason": "x", "legal_basis": "y"}, ctx(OTHER_UNIT))


@pytest.mark.parametrize("action, actor", [
    ("dispatch", UNIT), ("sign", OPERATOR), ("reply", OPERATOR), ("callback", UNIT),
    ("close", UNIT), ("archive", UNIT),
])
def test_roles_are_enforced(action, actor):
    with pytest.raises(NotPermitted):
        decide(action, facts(), {}, ctx(actor))


def test_return_within_one_working_day_with_reason_and_basis():
    step = decide("return", dispatched(), {"reason": "不属于本单位职责",
                                           "legal_basis": "《城市供水条例》第十条",
                                           "suggested_unit": "roads"}, ctx(UNIT))
    assert step.status == "returned" and step.changes["return_count"] == 1
    assert step.detail["suggested_unit"] == "roads"
    with pytest.raises(InvalidField) as err:
        decide("return", dispatched(), {"reason": "不归我们管"}, ctx(UNIT))
    assert err.value.field == "legal_basis"


def test_after_the_return_window_the_ticket_counts_as_accepted():
    with pytest.raises(StepRefused, match="counts as accepted"):
        decide("return", dispatched(), {"reason": "x", "legal_basis": "y"},
               ctx(UNIT, today=date(2026, 11, 18)))


def test_a_returned_ticket_is_dispatched_again():
    returned = facts("returned", return_count=1)
    assert decide("dispatch", returned, {"unit": "roads"}, ctx()).status == "dispatched"


def test_extension_before_the_deadline_within_the_caps():
    t = processing()  # deadline Mon Nov 30, dispatched Mon Nov 16
    with pytest.raises(InvalidField, match="after the current deadline"):
        decide("extend", t, {"reason": "x", "new_deadline": "2026-11-30"}, ctx(UNIT))
    step = decide("extend", t, {"reason": "需协调供电部门", "new_deadline": "2026-12-04",
                                "head_signed": True}, ctx(UNIT))
    assert step.changes["deadline"] == date(2026, 12, 4)
    assert step.detail["total_working_days"] == 14


def test_extension_beyond_ten_days_needs_the_heads_signature():
    with pytest.raises(StepRefused, match="head's signature"):
        decide("extend", processing(), {"reason": "x", "new_deadline": "2026-12-01"},
               ctx(UNIT))


def test_extension_never_beyond_fifteen_working_days():
    with pytest.raises(StepRefused, match="at most 15"):
        decide("extend", processing(), {"reason": "x", "new_deadline": "2026-12-08",
                                        "head_signed": True}, ctx(UNIT))


def test_extension_after_the_deadline_is_refused():
    with pytest.raises(StepRefused, match="overdue"):
        decide("extend", processing(), {"reason": "x", "new_deadline": "2026-12-04",
                                        "head_signed": True}, ctx(UNIT, date(2026, 12, 1)))


@pytest.mark.parametrize("patch, field", [
    ({"content": "已处理"}, "content"),
    ({"content": "好的"}, "content"),
    ({"responder": ""}, "responder"),
    ({"responder_phone": "call me"}, "responder_phone"),
    ({"approved_by": None}, "approved_by"),
])
def test_replies_must_answer_and_name_the_responder(patch, field):
    with pytest.raises(InvalidField) as err:
        decide("reply", processing(), {**GOOD_REPLY, **patch}, ctx(UNIT))
    assert err.value.field == field


def test_callback_then_close():
    replied = replace(processing(), status="replied")
    visited = decide("callback", replied, {"satisfaction": "satisfied"}, ctx())
    assert visited.status == "visited"
    closed = decide("close", replace(replied, status="visited"), {}, ctx())
    assert (closed.status, closed.changes["close_mode"]) == ("closed", "resolved")


def test_a_false_result_is_redone_at_once():
    replied = replace(processing(), status="replied")
    step = decide("callback", replied, {"satisfaction": "unsatisfied", "result_true": False},
                  ctx(today=date(2026, 11, 20)))
    assert step.status == "processing"
    assert step.changes["redo_count"] == 1
    assert step.changes["deadline"] == date(2026, 12, 4)


def test_redo_after_an_unsatisfied_callback():
    visited = replace(processing(), status="visited")
    step = decide("redo", visited, {"reason": "答复与事实不符"}, ctx())
    assert step.status == "processing" and step.changes["redo_count"] == 1


def test_close_needs_a_callback_unless_answered_directly_or_handled():
    with pytest.raises(StepRefused, match="call the citizen back"):
        decide("close", replace(processing(), status="replied"), {}, ctx())
    direct = decide("close", facts(), {"mode": "direct", "note": "知识库答复"}, ctx())
    assert direct.changes["disposal_mode"] == "direct_answer"
    handled = decide("close", replace(processing(), status="replied"),
                     {"mode": "handled", "note": "单位已依法履职，诉求超出政策范围"}, ctx())
    assert handled.changes["close_mode"] == "handled"
    with pytest.raises(InvalidField):
        decide("close", replace(processing(), status="replied"), {"mode": "handled"}, ctx())
    with pytest.raises(StepRefused):
        decide("close", dispatched(), {"mode": "direct", "note": "x"}, ctx())


def test_termination_is_requested_then_approved_by_a_supervisor():
    t = processing()
    requested = decide("terminate", t, {"reason": "同一诉求两次以上无理重复"}, ctx())
    assert requested.status == "termination_requested"
    pending = replace(t, status="termination_requested",
                      status_before_termination="processing")
    with pytest.raises(NotPermitted):
        decide("terminate", pending, {"approve": True}, ctx())
    assert decide("terminate", pending, {"approve": True}, ctx(SUPERVISOR)).status == "terminated"
    rejected = decide("terminate", pending, {"approve": False}, ctx(SUPERVISOR))
    assert (rejected.status, rejected.event) == ("processing", "ticket.termination_rejected")


def test_archive_only_finished_tickets():
    assert decide("archive", facts("closed"), {}, ctx()).status == "archived"
    assert decide("archive", facts("not_accepted"), {}, ctx()).status == "archived"
    with pytest.raises(StepRefused, match="cannot archive"):
        decide("archive", processing(), {}, ctx())


@pytest.mark.parametrize("status, action", [
    ("accepted", "sign"), ("accepted", "reply"), ("dispatched", "reply"),
    ("processing", "dispatch"), ("closed", "dispatch"), ("archived", "close"),
    ("replied", "sign"), ("terminated", "redo"),
])
def test_illegal_transitions_are_refused_with_the_reason(status, action):
    actor = UNIT if action in ("sign", "reply") else OPERATOR
    t = replace(processing(), status=status)
    params = {**GOOD_REPLY, "unit": "water", "reason": "x", "mode": "resolved"}
    with pytest.raises(StepRefused, match=f"is {status}"):
        decide(action, t, params, ctx(actor))


def test_admins_may_take_any_step_and_unknown_actions_are_invalid():
    assert decide("sign", dispatched(), {}, ctx(Actor("root", "admin"))).status == "processing"
    with pytest.raises(InvalidField):
        decide("explode", facts(), {}, ctx())
