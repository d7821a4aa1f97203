"""The ticket lifecycle as an explicit state machine. Pure: facts in, a decided step out.

    accepted ──dispatch──▶ dispatched ──sign──▶ processing ──reply──▶ replied ──callback──▶ visited
       │  ▲                  │   ▲                │  ▲ │                 │   │                │
       │  └───dispatch─── returned ◀──return─────┘  │ └─extend/contact  │   └─redo─┐   close│
       └─close(direct)       (within the return window)                 │          ▼        ▼
                                                     ◀──────redo────────┘     processing  closed
    processing/replied/visited ──terminate(request)──▶ termination_requested
    termination_requested ──terminate(approve)──▶ terminated
    closed/terminated/not_accepted ──archive──▶ archived

A refused step raises StepRefused (the rules forbid it now: HTTP 409) or InvalidField (the
request itself is wrong: HTTP 422, naming the field), or NotPermitted (this role may not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tickets.calendar import WorkCalendar
from tickets.codes import CLOSE_MODES, DISPOSAL_MODES, SATISFACTION
from tickets.errors import InvalidField, NotPermitted, StepRefused
from tickets.rules import CityRules

ACTIONS = ("dispatch", "sign", "contact", "return", "extend", "reply", "callback", "redo",
           "close", "terminate", "archive")

# Who may take each step. Admins may do everything; units act only on their own tickets.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "dispatch": frozenset({"operator", "supervisor"}),
    "sign": frozenset({"unit"}),
    "contact": frozenset({"unit"}),
    "return": frozenset({"unit"}),
    "extend": frozenset({"unit"}),
    "reply": frozenset({"unit"}),
    "callback": frozenset({"operator", "supervisor"}),
    "redo": frozenset({"operator", "supervisor"}),
    "close": frozenset({"operator", "supervisor"}),
    "terminate": frozenset({"operator", "supervisor"}),
    "archive": frozenset({"operator", "supervisor"}),
}

# Reply texts that answer nothing (河东: "no generic answers").
GENERIC_REPLIES = frozenset({"已处理", "已办理", "已解决", "已办结", "正在处理", "已转办",
                             "已收悉"})
MIN_REPLY_LENGTH = 15


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    unit: str | None = None


@dataclass(frozen=True)
class TicketFacts:
    """What the lifecycle needs to know of a ticket."""

    status: str
    kind: str
    channel: str
    approval_level: str | None = None
    lead_unit: str | None = None
    co_units: tuple[str, ...] = ()
    dispatched_on: date | None = None
    deadline: date | None = None
    signed_at: datetime | None = None
    first_contact_at: datetime | None = None
    return_count: int = 0
    redo_count: int = 0
    status_before_termination: str | None = None


@dataclass(frozen=True)
class Step:
    """A decided step: the new status, the fields that change, and the fact to publish."""

    status: str
    changes: dict[str, Any]
    event: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    actor: Actor
    now: datetime
    today: date  # the hotline's local date (deadlines are local working days)
    rules: CityRules
    calendar: WorkCalendar


Params = dict[str, Any]


def _text(params: Params, name: str, *, required: bool = True, max_length: int = 2000) -> str:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise InvalidField(name, f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidField(name, f"{name} is required")
    if len(value) > max_length:
        raise InvalidField(name, f"{name} is longer than {max_length} characters")
    return value


def _choice(params: Params, name: str, choices: Mapping[str, str], *,
            default: str | None = None) -> str:
    value = params.get(name) or default
    # isinstance first: a list or object sent here is unhashable, and `in` would raise.
    if not isinstance(value, str) or value not in choices:
        raise InvalidField(name, f"{name} must be one of {', '.join(choices)}")
    return value


def _require_status(facts: TicketFacts, allowed: set[str], step: str) -> None:
    if facts.status not in allowed:
        raise StepRefused(f"cannot {step} a ticket that is {facts.status} "
                          f"(allowed from: {', '.join(sorted(allowed))})")


def _require_own(facts: TicketFacts, actor: Actor, *, lead_only: bool) -> None:
    if actor.role != "unit":
        return
    own = {facts.lead_unit} if lead_only else {facts.lead_unit, *facts.co_units}
    if actor.unit not in own:
        raise NotPermitted("this ticket is not assigned to your unit" if not lead_only
                           else "only the lead unit may take this step")


def dispatch(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"accepted", "returned"}, "dispatch")
    unit = _text(params, "unit", max_length=32)
    co_units = params.get("co_units", [])
    if not isinstance(co_units, list) or not all(isinstance(u, str) and u for u in co_units):
        raise InvalidField("co_units", "co_units must be a list of unit codes")
    if unit in co_units:
        raise InvalidField("co_units", "the lead unit cannot also be a co-unit")
    days = ctx.rules.processing_days(facts.kind, facts.channel, facts.approval_level)
    today = ctx.today
    cal = ctx.calendar
    changes = {
        "lead_unit": unit,
        "co_units": list(dict.fromkeys(co_units)),
        "dispatched_on": today,
        "dispatched_at": ctx.now,
        "sign_deadline": cal.add_workdays(today, ctx.rules.sign_within_days),
        "return_deadline": cal.add_workdays(today, ctx.rules.return_within_days),
        "deadline": cal.add_workdays(today, days),
        "requirements": _text(params, "requirements", required=False),
        "disposal_mode": ("joint_handling" if co_units else
                          "escalated_approval" if facts.approval_level else "network_dispatch"),
        "signed_at": None,
        "first_contact_at": None,
    }
    return Step("dispatched", changes, "ticket.dispatched",
                {"unit": unit, "co_units": changes["co_units"],
                 "deadline": changes["deadline"].isoformat(), "working_days": days})


def sign(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"dispatched"}, "sign")
    _require_own(facts, ctx.actor, lead_only=False)
    late = facts.dispatched_on is not None and ctx.today > ctx.calendar.add_workdays(
        facts.dispatched_on, ctx.rules.sign_within_days)
    return Step("processing", {"signed_at": ctx.now, "signed_late": late}, "ticket.signed",
                {"unit": ctx.actor.unit, "late": late})


def contact(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"processing"}, "record a contact on")
    _require_own(facts, ctx.actor, lead_only=False)
    note = _text(params, "note", max_length=2000)
    changes: dict[str, Any] = {}
    detail: dict[str, Any] = {"note": note, "first": facts.first_contact_at is None}
    if facts.first_contact_at is None:
        changes["first_contact_at"] = ctx.now
        start = (facts.signed_at.date() if facts.signed_at else facts.dispatched_on) or ctx.today
        late = ctx.today > ctx.calendar.add_workdays(start, ctx.rules.first_contact_within_days)
        changes["first_contact_late"] = late
        detail["late"] = late
    return Step(facts.status, changes, "ticket.contacted", detail)


def return_(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"dispatched", "processing"}, "return")
    _require_own(facts, ctx.actor, lead_only=True)
    if facts.dispatched_on is not None:
        window_end = ctx.calendar.add_workdays(facts.dispatched_on,
                                               ctx.rules.return_within_days)
        if ctx.today > window_end:
            raise StepRefused(
                f"the return window ended on {window_end.isoformat()} "
                f"({ctx.rules.return_within_days} working day(s) after dispatch); "
                "the ticket now counts as accepted by the unit")
    reason = _text(params, "reason")
    legal_basis = _text(params, "legal_basis")
    suggested = _text(params, "suggested_unit", required=False, max_length=64)
    return Step("returned", {"return_count": facts.return_count + 1, "lead_unit": None,
                             "co_units": [], "deadline": None},
                "ticket.returned",
                {"unit": facts.lead_unit, "reason": reason, "legal_basis": legal_basis,
                 "suggested_unit": suggested})


def extend(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"processing"}, "extend")
    _require_own(facts, ctx.actor, lead_only=True)
    if facts.deadline is None or facts.dispatched_on is None:
        raise StepRefused("the ticket has no deadline to extend")
    if ctx.today > facts.deadline:
        raise StepRefused(f"an extension must be asked for before the deadline "
                          f"({facts.deadline.isoformat()}); the ticket is overdue")
    reason = _text(params, "reason")
    raw = params.get("new_deadline")
    if not isinstance(raw, str):
        raise InvalidField("new_deadline", "new_deadline is required (YYYY-MM-DD)")
    try:
        new_deadline = date.fromisoformat(raw)
    except ValueError:
        raise InvalidField("new_deadline", "new_deadline must be a date, YYYY-MM-DD") from None
    if new_deadline <= facts.deadline:
        raise InvalidField("new_deadline", "new_deadline must be after the current deadline")
    total = ctx.calendar.workdays_between(facts.dispatched_on, new_deadline)
    rules = ctx.rules
    if total > rules.extension_max_total_days:
        raise StepRefused(f"the total time would be {total} working days; the rules allow "
                          f"at most {rules.extension_max_total_days}")
    head_signed = params.get("head_signed", False)
    if not isinstance(head_signed, bool):
        raise InvalidField("head_signed", "head_signed must be true or false")
    if total > rules.extension_head_signature_over_days and not head_signed:
        raise StepRefused(f"beyond {rules.extension_head_signature_over_days} working days "
                          "in total an extension needs the unit head's signature "
                          "(head_signed: true)")
    return Step(facts.status, {"deadline": new_deadline}, "ticket.extended",
                {"reason": reason, "old_deadline": facts.deadline.isoformat(),
                 "new_deadline": new_deadline.isoformat(), "total_working_days": total,
                 "head_signed": head_signed})


def reply(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"processing"}, "reply to")
    _require_own(facts, ctx.actor, lead_only=True)
    content = _text(params, "content", max_length=5000)
    if content in GENERIC_REPLIES or len(content) < MIN_REPLY_LENGTH:
        raise InvalidField("content", "the reply must answer the actual request: what was "
                                     "found, what was done, and the result")
    responder = _text(params, "responder", max_length=64)
    phone = _text(params, "responder_phone", max_length=32)
    if not phone.replace("-", "").isdigit():
        raise InvalidField("responder_phone", "responder_phone must be a phone number")
    approved_by = _text(params, "approved_by", max_length=64)
    return Step("replied", {"replied_at": ctx.now, "reply": content, "responder": responder,
                            "responder_phone": phone, "reply_approved_by": approved_by},
                "ticket.replied", {"responder": responder, "approved_by": approved_by})


def follow_up(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    """回访: the satisfaction call to the citizen after the unit replied. Published as the
    action `callback` and the event `ticket.callback_recorded` (see GLOSSARY.md)."""
    _require_status(facts, {"replied"}, "record a callback on")
    satisfaction = _choice(params, "satisfaction", SATISFACTION)
    truthful = params.get("result_true", True)
    if not isinstance(truthful, bool):
        raise InvalidField("result_true", "result_true must be true or false")
    note = _text(params, "note", required=False)
    changes = {"satisfaction": satisfaction, "callback_at": ctx.now, "result_true": truthful}
    detail = {"satisfaction": satisfaction, "result_true": truthful, "note": note}
    if not truthful:
        # A false result is redone at once (蒙城 25; 兰溪): a fresh period from today.
        redo = _redo_changes(facts, ctx)
        return Step("processing", {**changes, **redo}, "ticket.callback_recorded",
                    {**detail, "redo": True, "deadline": redo["deadline"].isoformat()})
    return Step("visited", changes, "ticket.callback_recorded", detail)


def _redo_changes(facts: TicketFacts, ctx: Context) -> dict[str, Any]:
    days = ctx.rules.processing_days(facts.kind, facts.channel, facts.approval_level)
    return {"redo_count": facts.redo_count + 1, "dispatched_on": ctx.today,
            "deadline": ctx.calendar.add_workdays(ctx.today, days), "replied_at": None}


def redo(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"replied", "visited"}, "redo")
    reason = _text(params, "reason")
    changes = _redo_changes(facts, ctx)
    return Step("processing", changes, "ticket.redone",
                {"reason": reason, "deadline": changes["deadline"].isoformat()})


def close(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    mode = _choice(params, "mode", CLOSE_MODES, default="resolved")
    note = _text(params, "note", required=mode != "resolved")
    if mode == "direct":
        _require_status(facts, {"accepted"}, "close as answered on the spot")
    elif mode == "handled":
        # 视为办结: the unit did its legal duty; the citizen's demand goes beyond it.
        _require_status(facts, {"replied", "visited"}, "close as handled")
    else:
        _require_status(facts, {"visited"}, "close (call the citizen back first)")
    changes: dict[str, Any] = {"closed_at": ctx.now, "close_mode": mode}
    if mode == "direct":
        changes["disposal_mode"] = _choice(params, "disposal_mode", DISPOSAL_MODES,
                                           default="direct_answer")
    return Step("closed", changes, "ticket.closed", {"mode": mode, "note": note})


def terminate(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    if facts.status == "termination_requested":
        if ctx.actor.role not in ("supervisor", "admin"):
            raise NotPermitted("a termination is approved by a supervisor")
        approve = params.get("approve")
        if not isinstance(approve, bool):
            raise InvalidField("approve", "approve must be true or false")
        note = _text(params, "note", required=False)
        if approve:
            return Step("terminated", {"closed_at": ctx.now}, "ticket.terminated",
                        {"approved_by": ctx.actor.name, "note": note})
        back = facts.status_before_termination or "processing"
        return Step(back, {"status_before_termination": None}, "ticket.termination_rejected",
                    {"rejected_by": ctx.actor.name, "note": note})
    _require_status(facts, {"processing", "replied", "visited"}, "request termination of")
    reason = _text(params, "reason")
    return Step("termination_requested", {"status_before_termination": facts.status},
                "ticket.termination_requested", {"reason": reason})


def archive(facts: TicketFacts, params: Params, ctx: Context) -> Step:
    _require_status(facts, {"closed", "terminated", "not_accepted"}, "archive")
    category = _text(params, "category", required=False, max_length=64)
    return Step("archived", {"archived_at": ctx.now, "archive_category": category or None},
                "ticket.archived", {"category": category})


_STEPS: dict[str, Callable[[TicketFacts, Params, Context], Step]] = {
    "dispatch": dispatch, "sign": sign, "contact": contact, "return": return_,
    "extend": extend, "reply": reply, "callback": follow_up, "redo": redo, "close": close,
    "terminate": terminate, "archive": archive,
}


def decide(action: str, facts: TicketFacts, params: Params, ctx: Context) -> Step:
    """Decide one lifecycle step, or raise why it cannot be taken."""
    if action not in _STEPS:
        raise InvalidField("action", f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if ctx.actor.role != "admin" and ctx.actor.role not in ACTION_ROLES[action]:
        raise NotPermitted(f"a {ctx.actor.role} may not {action} tickets")
    return _STEPS[action](facts, params, ctx)
