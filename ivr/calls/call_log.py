"""Call records: the one place that writes the calls table.

Two sources feed it and either may come first: the AGI route (IVR choices) and the AMI
event stream (channel, queue, answer, hang-up). Every write is an idempotent upsert or a
column update, so the order of the two never loses a fact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, case, func, select, update

from ivr.calls.models import Call
from ivr.errors import NotFound
from store.db import Database, dialect_insert, utcnow

log = logging.getLogger(__name__)
CALLS = Call.__table__


def update_call(conn: Connection, call_id: str, **values: Any) -> int:
    """Change columns of one call record inside a write transaction; how many rows changed
    (0: no such call). For writes that must share a transaction with the call record."""
    return conn.execute(update(CALLS).where(CALLS.c.id == call_id).values(**values)).rowcount


# Where a call that is up is now (live_by_stage), from its record.
LIVE_STAGES = ("menu", "queue", "answered", "other")
LIVE_STAGE = case((Call.answered.is_not(None), "answered"), (Call.queue.is_not(None), "queue"),
                  (Call.route.is_(None), "menu"), else_="other")

TransferChange = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def final_outcome(call: Call | Row[Any]) -> str:
    """What became of a call, decided when it ends."""
    if any(t.get("handed_over") for t in call.transfers or []):
        return "transferred"  # a unit took the caller (ivr/transfers/legs.py)
    if call.answered is not None:
        return "answered"
    if call.route == "callback":
        return "callback_requested"
    if call.route == "message":
        return "message_left"
    if call.route == "emergency" and not call.queue:
        return "emergency_unanswered"
    if call.queue:
        return "abandoned"
    return "hangup_in_ivr"


def new_leg(leg_id: str, mode: str, number: str, unit: str | None = None,
            at: datetime | None = None, unit_name: str | None = None) -> dict[str, Any]:
    """A transfer leg as the call record keeps it (CONTRACT: transfers); handed_over says
    the unit took the caller, which makes the call's outcome "transferred"."""
    return {"leg": leg_id, "mode": mode, "unit": unit, "unit_name": unit_name,
            "number": number, "requested": (at or utcnow()).isoformat(), "answered": None,
            "ended": None, "outcome": None, "handed_over": False}


def legs_closed(legs: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """The call is over: so is every leg still open (a unit still ringing was cancelled)."""
    return [leg if leg.get("ended") else
            {**leg, "ended": at.isoformat(), "outcome": leg.get("outcome") or "cancelled"}
            for leg in legs]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def call_view(call: Call) -> dict[str, Any]:
    return {
        "id": call.id,
        "caller": call.caller,
        "started": _iso(call.started),
        "answered": _iso(call.answered),
        "ended": _iso(call.ended),
        "ivr_path": call.ivr_path or [],
        "request_kind": call.request_kind,
        "route": call.route,
        "queue": call.queue,
        "wait_seconds": call.wait_seconds,
        "seat": call.seat,
        "transfers": call.transfers or [],
        "outcome": call.outcome,
        "hangup_cause": call.hangup_cause,
        "recording": f"/api/calls/{call.id}/recording" if call.recording else None,
        "transcript": ({"segments": call.transcript_segments or [], "text": call.transcript}
                       if call.transcript or call.transcript_segments else None),
        "ticket_id": call.ticket_id,
    }


class CallLog:
    def __init__(self, db: Database, recordings_dir: str | None = None) -> None:
        self._db = db
        self._recordings_dir = recordings_dir

    async def call_arrived(self, call_id: str, caller: str, at: datetime | None = None) -> None:
        values: dict[str, Any] = {
            "id": call_id, "caller": caller, "started": at or utcnow(),
            "ivr_path": [], "transfers": [],
        }
        if self._recordings_dir:
            values["recording"] = f"{self._recordings_dir}/{call_id}.wav"

        def work(conn: Connection) -> None:
            result = conn.execute(dialect_insert(conn.dialect.name)(CALLS).values(**values)
                                  .on_conflict_do_nothing())
            if caller and result.rowcount == 0:
                # The other source created the row first, perhaps before the caller id was
                # known.
                conn.execute(update(CALLS).where(CALLS.c.id == call_id, CALLS.c.caller == "")
                             .values(caller=caller))

        await self._db.write(work)

    async def menu_left(self, call_id: str, caller: str, path: list[str],
                        route: str | None = None, request_kind: str | None = None) -> None:
        """The caller left the menu (routed, or hung up when route is None): one upsert,
        which also opens the record if the AMI side has not (AMI down)."""
        # The menu's one line per call (the AGI route is working on the call: its id rides on it).
        log.info("left the menu: %s -> %s", " ".join(path) or "no key",
                 route or "hung up", extra={"event": "MenuLeft"})
        changes: dict[str, Any] = {"ivr_path": list(path)}
        if route:
            changes.update(route=route, request_kind=request_kind)
        row = {"id": call_id, "caller": caller, "started": utcnow(), "transfers": [], **changes}
        if self._recordings_dir:
            row["recording"] = f"{self._recordings_dir}/{call_id}.wav"
        await self._db.write(lambda conn: conn.execute(
            dialect_insert(conn.dialect.name)(CALLS).values(**row).on_conflict_do_update(
                index_elements=[CALLS.c.id], set_=changes)))

    async def queued(self, call_id: str, queue: str, at: datetime | None = None) -> None:
        await self._update(call_id, queue=queue, queue_joined=at or utcnow())

    async def found_queued(self, call_id: str, queue: str, since: datetime) -> None:
        """A resync found the caller waiting in a queue it joined while nobody listened:
        record the queue unless an event already did (since: at the latest, when)."""
        await self._db.write(lambda conn: conn.execute(
            update(CALLS).where(CALLS.c.id == call_id, CALLS.c.queue.is_(None))
            .values(queue=queue, queue_joined=since)))

    async def answered(self, call_id: str, seat: str, wait_seconds: float,
                       at: datetime | None = None) -> None:
        await self._update(call_id, seat=seat, wait_seconds=wait_seconds, answered=at or utcnow())

    async def link_ticket(self, call_id: str, ticket_id: str) -> None:
        await self._update(call_id, ticket_id=ticket_id)

    async def leg_added(self, call_id: str, leg: dict[str, Any]) -> None:
        """A transfer leg (as `new_leg` makes it) joins the call's transfers."""
        await self._modify_transfers(call_id, lambda legs: [*legs, dict(leg)])

    async def leg_changed(self, call_id: str, leg_id: str, changes: dict[str, Any]) -> None:
        def change(legs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**leg, **changes} if leg.get("leg") == leg_id else leg for leg in legs]

        await self._modify_transfers(call_id, change)

    async def ended(self, call_id: str, cause: str | None = None,
                    at: datetime | None = None) -> None:
        ended = at or utcnow()

        def work(conn: Connection) -> None:
            call = conn.execute(select(CALLS).where(CALLS.c.id == call_id)).first()
            if call is None or call.ended is not None:
                return
            wait = call.wait_seconds
            if call.queue_joined and wait is None:
                wait = round((ended - call.queue_joined).total_seconds(), 3)
            # Guarded by "not ended yet": of two hang-up reports, the first one wins.
            conn.execute(update(CALLS).where(CALLS.c.id == call_id, CALLS.c.ended.is_(None))
                         .values(ended=ended, hangup_cause=cause, wait_seconds=wait,
                                 outcome=final_outcome(call),
                                 transfers=legs_closed(call.transfers or [], ended)))

        await self._db.write(work)

    async def open_legs(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(call id, seat, leg) of every transfer leg still open on a live answered call:
        what a restarted service must pick up again."""
        async with self._db.session() as session:
            rows = await session.execute(select(Call.id, Call.seat, Call.transfers).where(
                Call.ended.is_(None), Call.seat.is_not(None)))
            return [(call_id, seat, leg) for call_id, seat, legs in rows
                    for leg in legs or [] if not leg.get("ended")]

    async def live_by_stage(self) -> dict[str, int]:
        """The calls up now, by where they are: "menu", "queue" (waiting for a seat),
        "answered" (with an operator, a unit or both), "other" (out of the menu towards an
        emergency line, a callback or a message). Reads the open records only (indexed)."""
        async with self._db.session() as session:
            rows = await session.execute(select(LIVE_STAGE, func.count())
                                         .where(Call.ended.is_(None)).group_by(LIVE_STAGE))
            return {**dict.fromkeys(LIVE_STAGES, 0), **{stage: n for stage, n in rows}}

    async def open_call_ids(self) -> set[str]:
        async with self._db.session() as session:
            rows = await session.scalars(select(Call.id).where(Call.ended.is_(None)))
            return set(rows)

    async def transcribed(self, call_id: str, segments: list[dict[str, Any]],
                          text: str) -> bool:
        """The call's transcript (both sides, in order, and as text); False for no such call."""
        def work(conn: Connection) -> int:
            return conn.execute(update(CALLS).where(CALLS.c.id == call_id).values(
                transcript_segments=segments, transcript=text)).rowcount

        return bool(await self._db.write(work))

    async def of_recording(self, path: str) -> str | None:
        """The id of the call whose recording is the file at `path`, if any."""
        async with self._db.session() as session:
            return await session.scalar(select(Call.id).where(Call.recording == path))

    async def find(self, call_id: str) -> Call | None:
        async with self._db.session() as session:
            return await session.get(Call, call_id)

    async def get(self, call_id: str) -> Call:
        call = await self.find(call_id)
        if call is None:
            raise NotFound(f"no call {call_id}")
        return call

    async def search(self, *, caller: str | None = None, since: datetime | None = None,
                     active: bool | None = None, limit: int = 50,
                     offset: int = 0) -> tuple[list[Call], int]:
        query = select(Call)
        if caller:
            query = query.where(Call.caller == caller)
        if since:
            query = query.where(Call.started >= since)
        if active is not None:
            query = query.where(Call.ended.is_(None) if active else Call.ended.is_not(None))
        async with self._db.session() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.scalars(
                query.order_by(Call.started.desc(), Call.id.desc()).limit(limit).offset(offset)
            )
            return list(rows), int(total or 0)

    async def _update(self, call_id: str, **values: Any) -> None:
        # One statement on the database's writer: this runs several times for every call.
        if await self._db.write(lambda conn: update_call(conn, call_id, **values)) == 0:
            log.warning("update for unknown call %s: %s", call_id, sorted(values))

    async def _modify_transfers(self, call_id: str, change: TransferChange) -> None:
        def work(conn: Connection) -> bool:
            row = conn.execute(select(CALLS.c.transfers).where(CALLS.c.id == call_id)
                               .with_for_update()).first()
            if row is None:
                return False
            update_call(conn, call_id, transfers=change([dict(t) for t in row.transfers or []]))
            return True

        if not await self._db.write(work):
            log.warning("transfer for unknown call %s", call_id)
