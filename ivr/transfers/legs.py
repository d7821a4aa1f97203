"""One transfer leg (转接/三方通话) as a pure state machine: what the leg is, what happened
to it, and what must be done about it. No I/O: ivr/transfers/service.py turns AMI events
and the operator's clicks into `Happened` values, calls `react`, records the new leg and
carries out the returned `Do` steps.

Where the people are (extensions_transfer.conf): once a transfer starts, the citizen sits
in the call's room (a ConfBridge, hotline-<call id>) for the rest of the call. The unit's
leg is placed by the service and, answered, joins the room (blind, conference) or the
consult room where the operator waits (consult).

Promises kept here, whatever the order of events:
- The citizen is never hung up because a unit failed: a failed blind transfer rings the
  operator back (ring_back; the service falls back to the queue when that fails too).
- A unit that never answers a conference leaves the citizen and the operator talking.
- The operator leaving a conference, or hanging up during a consult, hands the citizen
  over; it never ends the call for the others.
- The citizen hanging up ends the unit's leg.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Mode = Literal["blind", "consult", "conference"]
MODES: tuple[Mode, ...] = ("blind", "consult", "conference")
Outcome = Literal["answered", "busy", "no_answer", "rejected", "failed", "cancelled"]
# requested: the unit's phone not ringing yet; ringing; answered: the unit is on the line;
# ended: the leg is over (outcome says how)
Phase = Literal["requested", "ringing", "answered", "ended"]

# Why the unit's channel hung up before it answered (Asterisk's Hangup cause codes).
CAUSE_OUTCOMES: dict[int, Outcome] = {17: "busy", 21: "rejected", 18: "no_answer",
                                      19: "no_answer"}


@dataclass(frozen=True)
class Leg:
    id: str
    call_id: str
    mode: Mode
    number: str
    unit: str | None = None  # the unit's code; None for an emergency number
    seat: str = ""  # the operator who asked for it
    phase: Phase = "requested"
    operator_on_call: bool = True  # False once the operator has left or hung up
    handed_over: bool = False  # the unit has the citizen without the operator
    outcome: Outcome | None = None

    @property
    def open(self) -> bool:
        return self.phase != "ended"


# -- what happened -------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitRinging:
    pass


@dataclass(frozen=True)
class UnitAnswered:
    pass


@dataclass(frozen=True)
class UnitGone:
    """The unit's channel hung up; before an answer, cause says why (busy, rejected...)."""

    cause: int = 16


@dataclass(frozen=True)
class CitizenGone:
    pass


@dataclass(frozen=True)
class OperatorGone:
    pass


@dataclass(frozen=True)
class Complete:
    """Consult: the operator connects the citizen and the unit and drops out."""


@dataclass(frozen=True)
class Cancel:
    """The operator withdraws the transfer: back to the citizen."""


@dataclass(frozen=True)
class Leave:
    """Conference: the operator leaves; the citizen and the unit talk on."""


@dataclass(frozen=True)
class HoldTooLong:
    """The citizen has held longer than the limit while the operator consulted."""


Happened = (UnitRinging | UnitAnswered | UnitGone | CitizenGone | OperatorGone | Complete
            | Cancel | Leave | HoldTooLong)


# -- what to do ------------------------------------------------------------------------------
Who = Literal["citizen", "operator", "unit"]


@dataclass(frozen=True)
class Do:
    """One step for the service: hang_up WHO; unit_to_room (from the consult room);
    operator_to_room (back from the consult room); ring_back (the operator's seat, into the
    room, else the queue)."""

    what: Literal["hang_up", "unit_to_room", "operator_to_room", "ring_back"]
    who: Who | None = None


class NotNow(Exception):
    """The operator asked for a step this leg cannot take now (409 with the reason)."""

    http_status = 409


def react(leg: Leg, happened: Happened) -> tuple[Leg, list[Do]]:
    """The leg after `happened`, and the steps that follow. An event that no longer
    matters (a ring after the answer, anything after the end) changes nothing."""
    if leg.phase == "ended":
        if isinstance(happened, Complete | Cancel | Leave):
            raise NotNow("this transfer is over")
        return leg, []
    if isinstance(happened, UnitRinging):
        return (replace(leg, phase="ringing") if leg.phase == "requested" else leg), []
    if isinstance(happened, UnitAnswered):
        return _answered(leg)
    if isinstance(happened, UnitGone):
        return _unit_gone(leg, happened.cause)
    if isinstance(happened, CitizenGone):
        steps = [Do("hang_up", "unit")]
        if leg.mode == "consult" and leg.operator_on_call and not leg.handed_over:
            steps.append(Do("hang_up", "operator"))  # they were holding for the citizen
        outcome: Outcome = "answered" if leg.phase == "answered" else "cancelled"
        return _end(leg, outcome), steps
    if isinstance(happened, OperatorGone):
        return _operator_gone(leg)
    if isinstance(happened, Complete):
        return _complete(leg)
    if isinstance(happened, Cancel):
        return _cancel(leg)
    if isinstance(happened, Leave):
        return _leave(leg)
    if isinstance(happened, HoldTooLong):
        if leg.mode != "consult" or leg.handed_over:
            return leg, []
        return _withdraw(leg)
    raise TypeError(f"not an event: {happened!r}")


def _end(leg: Leg, outcome: Outcome) -> Leg:
    return replace(leg, phase="ended", outcome=outcome)


def _answered(leg: Leg) -> tuple[Leg, list[Do]]:
    if leg.phase == "answered":
        return leg, []
    answered = replace(leg, phase="answered")
    if leg.mode == "blind" or not leg.operator_on_call:
        # The citizen is alone in the room: the unit has them now.
        answered = replace(answered, handed_over=True)
        # A consult whose operator hung up while it rang: the unit came to the consult room.
        return answered, [Do("unit_to_room")] if leg.mode == "consult" else []
    return answered, []


def _unit_gone(leg: Leg, cause: int) -> tuple[Leg, list[Do]]:
    if leg.phase != "answered":
        ended = _end(leg, CAUSE_OUTCOMES.get(cause, "failed"))
        if not leg.operator_on_call:
            return ended, [Do("ring_back")]  # blind, or the operator left while it rang
        if leg.mode == "consult":
            return ended, [Do("operator_to_room")]
        return ended, []  # conference: the citizen and the operator carry on
    ended = _end(leg, "answered")
    if leg.handed_over:
        return ended, [Do("hang_up", "citizen")]  # their conversation is over
    if leg.mode == "consult":
        return ended, [Do("operator_to_room")]  # the unit hung up on the operator
    return ended, []


def _operator_gone(leg: Leg) -> tuple[Leg, list[Do]]:
    if not leg.operator_on_call:
        return leg, []
    gone = replace(leg, operator_on_call=False)
    if leg.phase == "answered":
        gone = replace(gone, handed_over=True)
        return gone, [Do("unit_to_room")] if leg.mode == "consult" else []
    return gone, []  # still ringing: handed over on answer, rung back on failure


def _complete(leg: Leg) -> tuple[Leg, list[Do]]:
    if leg.mode != "consult":
        raise NotNow("only a consult transfer is completed; this one is a "
                     f"{leg.mode} transfer")
    if leg.phase != "answered":
        raise NotNow("the unit has not answered yet: wait, or cancel")
    done = replace(leg, operator_on_call=False, handed_over=True)
    return done, [Do("unit_to_room"), Do("hang_up", "operator")]


def _cancel(leg: Leg) -> tuple[Leg, list[Do]]:
    if leg.mode == "blind":
        raise NotNow("a blind transfer cannot be cancelled: the caller is with the unit")
    if leg.handed_over or not leg.operator_on_call:
        raise NotNow("the caller is already with the unit")
    return _withdraw(leg)


def _withdraw(leg: Leg) -> tuple[Leg, list[Do]]:
    steps = [Do("hang_up", "unit")]
    if leg.mode == "consult":
        steps.append(Do("operator_to_room") if leg.operator_on_call else Do("ring_back"))
    return _end(leg, "cancelled"), steps


def _leave(leg: Leg) -> tuple[Leg, list[Do]]:
    if leg.mode != "conference":
        raise NotNow("only a three-way call can be left; complete a consult instead")
    if not leg.operator_on_call:
        raise NotNow("you have already left this call")
    left = replace(leg, operator_on_call=False, handed_over=leg.phase == "answered")
    return left, [Do("hang_up", "operator")]
