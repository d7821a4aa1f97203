"""Past-tense facts about calls, one type per fact, published by the call tracker (the one
place that reads AMI events) to whoever subscribed: screen pops, the supervisor view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


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


@dataclass(frozen=True)
class CallEnded:
    call_id: str


Fact = SeatRang | SeatAnswered | SeatMissed | CallQueued | CallEnded
FactHandler = Callable[[Fact], Awaitable[None]]
