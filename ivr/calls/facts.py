"""Past-tense facts about calls, one type per fact, published by the call tracker (the one
place that reads AMI events) to whoever subscribed: screen pops, the supervisor view,
speech, the metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CallArrived:
    """A citizen's call reached the hotline (its inbound channel appeared)."""

    call_id: str
    caller: str


@dataclass(frozen=True)
class SeatRang:
    """The queue started ringing a seat for a call."""

    call_id: str
    seat: str
    caller: str
    queue: str


@dataclass(frozen=True)
class SeatAnswered:
    call_id: str
    seat: str
    wait_seconds: float


@dataclass(frozen=True)
class SeatMissed:
    """The seat rang but did not answer (the queue moves on)."""

    call_id: str
    seat: str


@dataclass(frozen=True)
class CallQueued:
    """A caller joined the operator queue."""

    call_id: str
    queue: str
    # How the caller got there, as the dialplan says (HOTLINE_ROUTE): "queue" (the menu
    # sent them), "fallback" (the menu was down, crashed or stuck: the dialplan took
    # them), "emergency" (an emergency line nobody answered); "" when not told.
    route: str = ""


@dataclass(frozen=True)
class CallAbandoned:
    """A waiting caller hung up before a seat answered."""

    call_id: str
    queue: str
    wait_seconds: float


@dataclass(frozen=True)
class EmergencyDialled:
    """The menu's linked transfer (key 8) to an emergency number ended: `outcome` as a
    transfer leg's (answered, busy, no_answer, cancelled, failed)."""

    call_id: str
    outcome: str


@dataclass(frozen=True)
class CallEnded:
    call_id: str


Fact = (CallArrived | SeatRang | SeatAnswered | SeatMissed | CallQueued | CallAbandoned
        | EmergencyDialled | CallEnded)
FactHandler = Callable[[Fact], Awaitable[None]]


def describe(fact: Fact) -> str:
    """The fact as a log line says it: no phone number (logs are kept longer and read more
    widely than call records); the call id rides on the line itself (ivr/log_format.py)."""
    match fact:
        case CallArrived():
            return "call arrived"
        case SeatRang(seat=seat, queue=queue):
            return f"seat {seat} rung from queue {queue}"
        case SeatAnswered(seat=seat, wait_seconds=wait):
            return f"answered by seat {seat} after {wait:.0f} s in the queue"
        case SeatMissed(seat=seat):
            return f"seat {seat} did not answer"
        case CallQueued(queue=queue, route=route):
            return f"joined queue {queue}" + (f" (route {route})" if route else "")
        case CallAbandoned(queue=queue, wait_seconds=wait):
            return f"hung up after {wait:.0f} s in queue {queue}"
        case EmergencyDialled(outcome=outcome):
            return f"emergency line from the menu: {outcome}"
        case CallEnded():
            return "call ended"
