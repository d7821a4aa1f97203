"""Ticket use cases: file, act, read, search. The changes themselves are in
tickets/writes.py; this is where they meet the database's writers and the reading side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select

from store.db import Database, utcnow
from store.transactions import Writers
from tickets import masking, queries, units
from tickets.codes import KINDS, STATUSES
from tickets.errors import InvalidField, NoSuchItem, NotPermitted, TicketNotFound
from tickets.filing import NewTicket
from tickets.lifecycle import Actor
from tickets.models import Ticket, TicketEvent, TicketUnit, Unit
from tickets.views import OWED, ticket_view
from tickets.writes import TicketWrites


@dataclass(frozen=True)
class TicketFilters:
    phone: str | None = None
    status: str | None = None
    unit: str | None = None
    kind: str | None = None
    overdue: bool | None = None
    supervised: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


class TicketService:
    def __init__(self, db: Database, writers: Writers[TicketWrites], *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """writers: where the ticket changes (writers.handler) and the other writes run, as
        the app is wired (store.transactions.writers_for); reads go to db."""
        self._db = db
        self._writers = writers
        self._writes = writers.handler
        self.rules = self._writes.rules
        self.calendar = self._writes.calendar
        self._tz = ZoneInfo(self._writes.timezone)
        self._clock = clock
        self.on_event: Callable[[], None] | None = None  # wakes the outbox worker

    async def start(self) -> None:
        """Start what the writers need (a writer process, where the wiring chose one)."""
        await self._writers.start()

    async def stop(self) -> None:
        """Stop the writers: later filings and steps are refused (503), not run elsewhere,
        so nothing races the database's shutdown."""
        await self._writers.stop()

    @property
    def writing(self) -> bool:
        """Filings and steps can be made now (false while a dead writer process restarts)."""
        return self._writers.serving

    @property
    def timezone(self) -> str:
        return self._tz.key

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def _committed(self) -> None:
        """A change and its outbox message are committed: wake the outbox worker."""
        if self.on_event:
            self.on_event()

    # -- units ------------------------------------------------------------------------------

    async def add_unit(self, code: str, name: str, phone: str, duty_phone: str | None = None,
                       hours: str | None = None) -> dict[str, Any]:
        """Re-adding a unit updates its numbers: admins fix a changed phone this way."""
        if hours:
            units.parse_hours(hours)  # InvalidField naming what is wrong
        if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 32:
            raise InvalidField("code", "code: up to 32 letters, digits, - or _")
        for field_name, number in (("phone", phone), ("duty_phone", duty_phone)):
            if number is not None and not number.replace("-", "").isdigit():
                raise InvalidField(field_name, f"{field_name} must be a telephone number")
        unit = {"code": code, "name": name, "phone": phone, "duty_phone": duty_phone,
                "hours": hours or None}
        await self._writers.write(queries.put_unit, unit)
        self._committed()
        return unit

    async def units(self, q: str | None = None) -> list[dict[str, Any]]:
        """Every unit, or those the search text finds (name, code, pinyin initials), each
        with the number a call would go to now."""
        async with self._db.session() as session:
            rows = await session.scalars(select(Unit).order_by(Unit.code))
            found = [_unit_view(u) for u in rows]
        found = [u for u in found if units.matches(u, q)] if q else found
        now = self._local_now()
        for unit in found:
            try:
                unit["number_now"], unit["number_kind"] = units.number_now(
                    unit, now, self.calendar.is_workday)
                unit["unreachable"] = None
            except units.NoUsableNumber as exc:
                unit["number_now"], unit["number_kind"], unit["unreachable"] = None, None, str(exc)
        return found

    async def unit_to_call(self, code: str) -> tuple[dict[str, Any], str]:
        """The unit and the number to phone it on now; NoSuchItem (404) for an unknown code,
        NoUsableNumber (409) when none of its numbers is staffed now."""
        async with self._db.session() as session:
            row = await session.get(Unit, code)
        if row is None:
            raise NoSuchItem(f"no unit {code}")
        unit = _unit_view(row)
        return unit, units.number_now(unit, self._local_now(), self.calendar.is_workday)[0]

    def _local_now(self) -> datetime:
        """The hotline's wall-clock time, as unit hours are written."""
        return self._clock().astimezone(self._tz).replace(tzinfo=None)

    # -- filing and steps -------------------------------------------------------------------

    async def create(self, new: NewTicket, actor: Actor, *, seat: str | None = None,
                     call_ids: list[str] | None = None) -> dict[str, Any]:
        ticket = await self._writers.write(self._writes.create, new, actor, self._clock(),
                                           seat, call_ids)
        self._committed()
        return ticket

    async def act(self, ticket_id: str, action: str, params: dict[str, Any],
                  actor: Actor) -> dict[str, Any]:
        ticket = await self._writers.write(self._writes.act, ticket_id, action, params, actor,
                                           self._clock())
        self._committed()
        return ticket

    # -- reading ----------------------------------------------------------------------------

    async def _visible(self, ticket_id: str, actor: Actor) -> dict[str, Any]:
        """The ticket's columns, if the actor may see it (units: only their own)."""
        def read(conn: Connection) -> dict[str, Any] | None:
            ticket = queries.load(conn, ticket_id)
            if ticket is None or (actor.role == "unit"
                                  and not queries.assigned(conn, ticket_id, actor.unit)):
                return None
            return ticket

        async with self._db.engine.connect() as conn:
            ticket = await conn.run_sync(read)
        if ticket is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        return ticket

    async def get(self, ticket_id: str, actor: Actor) -> dict[str, Any]:
        view = ticket_view(await self._visible(ticket_id, actor), self.today())
        return masking.for_unit(view) if actor.role == "unit" else view

    async def events(self, ticket_id: str, actor: Actor) -> list[dict[str, Any]]:
        await self._visible(ticket_id, actor)
        async with self._db.session() as session:
            rows = await session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
            return [{"event": e.event, "actor": e.actor, "role": e.role,
                     "at": e.at.isoformat(), "status_after": e.status_after,
                     "detail": e.detail} for e in rows]

    async def search(self, actor: Actor, filters: TicketFilters, *, limit: int = 50,
                     offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        query = select(queries.TICKETS)
        today = self.today()
        unit = actor.unit if actor.role == "unit" else filters.unit
        if actor.role == "unit" and filters.unit and filters.unit != actor.unit:
            return [], 0
        if unit:
            query = query.where(Ticket.id.in_(
                select(TicketUnit.ticket_id).where(TicketUnit.unit == unit)))
        if filters.phone:
            if actor.role == "unit":  # a unit may not look a citizen up by number
                raise NotPermitted("units cannot search by phone")
            query = query.where(Ticket.phone == filters.phone)
        if filters.status:
            if filters.status not in STATUSES:
                raise InvalidField("status", f"status must be one of {', '.join(STATUSES)}")
            query = query.where(Ticket.status == filters.status)
        if filters.kind:
            if filters.kind not in KINDS:
                raise InvalidField("kind", f"kind must be one of {', '.join(KINDS)}")
            query = query.where(Ticket.kind == filters.kind)
        overdue = Ticket.status.in_(OWED) & (Ticket.deadline < today)
        if filters.overdue is not None:
            query = query.where(overdue if filters.overdue else ~overdue)
        if filters.supervised is not None:
            supervised = or_(Ticket.supervised.is_(True), overdue)
            query = query.where(supervised if filters.supervised else ~supervised)
        if filters.since:
            query = query.where(Ticket.created_at >= filters.since)
        if filters.until:
            query = query.where(Ticket.created_at < filters.until)
        async with self._db.session() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.execute(
                query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
                .limit(limit).offset(offset))
            views = [ticket_view(t, today) for t in rows.mappings()]
        if actor.role == "unit":
            views = [masking.for_unit(v) for v in views]
        return views, int(total or 0)

    async def count_by_status(self) -> dict[str, int]:
        """How many tickets are in each status (every status named, 0 too): one GROUP BY
        on the status index, for the metrics."""
        async with self._db.session() as session:
            rows = await session.execute(
                select(Ticket.status, func.count()).group_by(Ticket.status))
            return {**dict.fromkeys(STATUSES, 0), **{status: n for status, n in rows}}

    async def status_of(self, ticket_id: str) -> str | None:
        """For the IVR: the status of a ticket number, no personal data."""
        async with self._db.session() as session:
            return await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))

    async def kind_of(self, ticket_id: str) -> str | None:
        """For a transfer's briefing: what kind of matter a ticket is, no personal data."""
        async with self._db.session() as session:
            return await session.scalar(select(Ticket.kind).where(Ticket.id == ticket_id))


def _unit_view(unit: Unit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "phone": unit.phone,
            "duty_phone": unit.duty_phone, "hours": unit.hours}
