"""Screen pops: the moment a call rings a seat, that seat's browser learns who is calling,
what they chose in the menu, how long they waited, what they called about before, and gets
a ticket draft. Only that seat hears of it. A browser that reconnects gets the current
state at once. Supervisors' browsers receive every seat's messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from ivr.calls.call_log import CallLog, call_view
from ivr.calls.facts import CallEnded, CallQueued, Fact, SeatAnswered, SeatMissed, SeatRang
from ivr.errors import NotFound
from store.db import utcnow
from tickets.lifecycle import Actor
from tickets.service import TicketFilters, TicketService

log = logging.getLogger(__name__)

ALL_SEATS = "*"
QUEUE_LIMIT = 100  # a stuck browser must not grow the service's memory
HISTORY = 5
_READER = Actor("screen-pop", "supervisor")  # pops are for the hotline's own operators


class ScreenPops:
    def __init__(self, call_log: CallLog, tickets: TicketService) -> None:
        self._calls = call_log
        self._tickets = tickets
        self._listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._current: dict[str, dict[str, Any]] = {}  # seat → what its screen shows now
        self._seat_of_call: dict[str, str] = {}
        self._latest: dict[str, asyncio.Task[None]] = {}  # call → its last fact's task

    def subscribe(self, seat: str) -> asyncio.Queue[dict[str, Any]]:
        """A browser for `seat` (or ALL_SEATS) connected: it gets the current state first."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._listeners.setdefault(seat, set()).add(queue)
        current = self._current.items() if seat == ALL_SEATS else (
            [(seat, self._current[seat])] if seat in self._current else [])
        for _seat, message in current:
            queue.put_nowait(message)
        return queue

    def unsubscribe(self, seat: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.get(seat, set()).discard(queue)

    def notify(self, seat: str, message: dict[str, Any]) -> None:
        """Another slice's news for a seat (a transfer's state): to its browsers and to the
        supervisors'."""
        self._send(seat, message)

    def _send(self, seat: str, message: dict[str, Any]) -> None:
        """To the seat's own browsers and to every supervisor's."""
        self._deliver((*self._listeners.get(seat, ()), *self._listeners.get(ALL_SEATS, ())),
                      message)

    def _send_supervisors(self, message: dict[str, Any]) -> None:
        self._deliver(self._listeners.get(ALL_SEATS, ()), message)

    @staticmethod
    def _deliver(targets: Iterable[asyncio.Queue[dict[str, Any]]],
                 message: dict[str, Any]) -> None:
        for target in targets:
            try:
                target.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("a browser is not reading its %s messages; one dropped",
                            message.get("type"))

    async def on_fact(self, fact: Fact) -> None:
        """Take a fact from the call tracker without making it wait: building a pop reads
        the database three times, and the tracker's next AMI event must not queue behind
        that. Facts of one call are applied in order (a ring before its answer); different
        calls' pops are built side by side."""
        previous = self._latest.get(fact.call_id)
        task = asyncio.create_task(self._apply_after(previous, fact),
                                   name=f"screen-pop {fact.call_id}")
        self._latest[fact.call_id] = task
        task.add_done_callback(lambda done: self._forget(fact.call_id, done))

    def _forget(self, call_id: str, done: asyncio.Task[None]) -> None:
        if self._latest.get(call_id) is done:
            del self._latest[call_id]

    async def _apply_after(self, previous: asyncio.Task[None] | None, fact: Fact) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # its failure was logged; this fact still counts
        try:
            await self._apply(fact)
        except Exception:
            log.exception("screen pop failed on %s of call %s", type(fact).__name__,
                          fact.call_id)

    async def idle(self) -> None:
        """Wait until every fact received so far has been applied."""
        while self._latest:
            await asyncio.wait(list(self._latest.values()))

    async def stop(self) -> None:
        for task in list(self._latest.values()):
            task.cancel()
        await self.idle()

    async def _apply(self, fact: Fact) -> None:
        if isinstance(fact, SeatRang):
            pop = await self._build_pop(fact)
            self._seat_of_call[fact.call_id] = fact.seat
            self._current[fact.seat] = pop
            self._send(fact.seat, pop)
        elif isinstance(fact, SeatMissed):
            self._clear(fact.seat, fact.call_id, "ring_stopped")
        elif isinstance(fact, SeatAnswered):
            state = dict(self._current.get(fact.seat, {"call_id": fact.call_id}))
            state.update(type="call_answered", seat=fact.seat, call_id=fact.call_id,
                         waited_seconds=fact.wait_seconds)
            self._current[fact.seat] = state
            self._seat_of_call[fact.call_id] = fact.seat
            self._send(fact.seat, state)
        elif isinstance(fact, CallEnded):
            seat = self._seat_of_call.pop(fact.call_id, None)
            if seat is not None:
                self._clear(seat, fact.call_id, "call_ended")
        if isinstance(fact, CallQueued | CallEnded):
            # Supervisors' pages re-read the queue state when it changes.
            self._send_supervisors({"type": "queue_changed", "call_id": fact.call_id})

    def _clear(self, seat: str, call_id: str, kind: str) -> None:
        current = self._current.get(seat)
        if current is not None and current.get("call_id") == call_id:
            del self._current[seat]
        self._send(seat, {"type": kind, "seat": seat, "call_id": call_id})

    async def _build_pop(self, fact: SeatRang) -> dict[str, Any]:
        try:
            record = await self._calls.get(fact.call_id)  # read once: this path is timed
        except NotFound:
            record = None
        call: dict[str, Any] | None = call_view(record) if record else None
        caller = fact.caller or (call or {}).get("caller", "")
        waited = None
        if record is not None:
            since = record.queue_joined or record.started
            waited = round((utcnow() - since).total_seconds(), 1)
        earlier_calls, calls_total = await self._calls.search(caller=caller, limit=HISTORY + 1)
        tickets, tickets_total = await self._tickets.search(
            _READER, TicketFilters(phone=caller), limit=HISTORY) if caller else ([], 0)
        kind = (call or {}).get("request_kind") or "consultation"
        draft = {"phone": caller, "kind": kind, "call_id": fact.call_id,
                 "transcript": (call or {}).get("transcript")}
        return {
            "type": "screen_pop", "seat": fact.seat, "call_id": fact.call_id,
            "caller": caller, "queue": fact.queue, "call": call, "waited_seconds": waited,
            # this call included: "第N次来电"
            "times_called": calls_total,
            "earlier_calls": [call_view(c) for c in earlier_calls if c.id != fact.call_id
                              ][:HISTORY],
            "earlier_tickets": [
                {k: t[k] for k in ("id", "kind", "kind_label", "status", "status_label",
                                   "created_at", "content", "times_by_citizen", "flags")}
                for t in tickets],
            "tickets_total": tickets_total,
            "ticket_draft": draft,
            "console_url": "/console?" + urlencode({"phone": caller, "call_id": fact.call_id,
                                                    "kind": kind}),
        }
