"""Ticket use cases: file, act, read, search. Each change is one transaction that also
writes its audit event and its outbox message, so downstream never misses a change."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, distinct, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import Database, utcnow
from tickets import masking
from tickets.calendar import WorkCalendar
from tickets.codes import (
    CHANNELS,
    KINDS,
    NOT_ACCEPTED_REASONS,
    STATUSES,
    URGENCIES,
)
from tickets.errors import InvalidField, NotPermitted, TicketNotFound
from tickets.escalation import SupervisionInput, approval_level, matter_key, supervision_flags
from tickets.lifecycle import Actor, Context, Step, TicketFacts, decide
from tickets.models import OutboxMessage, Ticket, TicketEvent, TicketSequence, TicketUnit, Unit
from tickets.rules import CityRules

# Statuses in which the unit still owes work: a passed deadline makes them overdue.
OWED = frozenset({"dispatched", "processing"})
MAX_CONTENT = 5000


@dataclass(frozen=True)
class NewTicket:
    phone: str
    kind: str
    content: str
    name: str | None = None
    address: str | None = None
    confidential: bool = False
    call_id: str | None = None
    channel: str = "phone"
    category: str | None = None
    location: str | None = None
    urgency: str = "normal"
    not_accepted_reason: str | None = None
    referral: str | None = None
    media_exposure: bool = False
    transcript: str | None = None


def _string(body: dict[str, Any], name: str, max_length: int, *, required: bool = False,
            choices: dict[str, str] | None = None) -> str | None:
    value = body.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise InvalidField(name, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidField(name, f"{name} is required")
    if len(value) > max_length:
        raise InvalidField(name, f"{name} is longer than {max_length} characters")
    if choices is not None and value not in choices:
        raise InvalidField(name, f"{name} must be one of {', '.join(choices)}")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidField(name, f"{name} must be true or false")
    return value


def parse_new_ticket(body: dict[str, Any]) -> NewTicket:
    """Validate a filing request; raises InvalidField naming the first bad field."""
    known = {f.name for f in fields(NewTicket)}
    unknown = sorted(set(body) - known)
    if unknown:
        raise InvalidField(unknown[0], f"unknown field {unknown[0]!r}")
    phone = _string(body, "phone", 20, required=True)
    assert phone is not None
    if not phone.lstrip("+").replace("-", "").isdigit() or len(phone) < 3:
        raise InvalidField("phone", "phone must be a telephone number (digits)")
    kind = _string(body, "kind", 16, required=True, choices=KINDS)
    content = _string(body, "content", MAX_CONTENT, required=True)
    return NewTicket(
        phone=phone, kind=kind or "", content=content or "",
        name=_string(body, "name", 64), address=_string(body, "address", 200),
        confidential=_flag(body, "confidential"), call_id=_string(body, "call_id", 64),
        channel=_string(body, "channel", 32, choices=CHANNELS) or "phone",
        category=_string(body, "category", 64), location=_string(body, "location", 200),
        urgency=_string(body, "urgency", 16, choices=URGENCIES) or "normal",
        not_accepted_reason=_string(body, "not_accepted_reason", 64,
                                    choices=NOT_ACCEPTED_REASONS),
        referral=_string(body, "referral", 200), media_exposure=_flag(body, "media_exposure"),
        transcript=_string(body, "transcript", 50000),
    )


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_view(t: Ticket, today: date) -> dict[str, Any]:
    overdue = t.status in OWED and t.deadline is not None and today > t.deadline
    view = {c: getattr(t, c) for c in (
        "id", "channel", "kind", "name", "phone", "address", "confidential", "content",
        "category", "location", "urgency", "times_by_citizen", "citizens_on_matter",
        "approval_level", "disposal_mode", "status", "lead_unit", "co_units",
        "not_accepted_reason", "referral", "requirements", "operator", "seat", "call_ids",
        "transcript", "media_exposure", "signed_late", "first_contact_late", "reply",
        "responder", "responder_phone", "reply_approved_by", "satisfaction", "result_true",
        "close_mode", "archive_category", "return_count", "redo_count")}
    for c in ("created_at", "updated_at", "dispatched_on", "dispatched_at", "sign_deadline",
              "return_deadline", "deadline", "signed_at", "first_contact_at", "replied_at",
              "callback_at", "closed_at", "archived_at"):
        view[c] = _iso(getattr(t, c))
    view["overdue"] = overdue
    view["flags"] = [*t.flags, "overdue"] if overdue else list(t.flags)
    view["supervised"] = bool(view["flags"])
    view["kind_label"] = KINDS.get(t.kind, t.kind)
    view["status_label"] = STATUSES.get(t.status, t.status)
    return view


def _facts(t: Ticket) -> TicketFacts:
    return TicketFacts(
        status=t.status, kind=t.kind, channel=t.channel, approval_level=t.approval_level,
        lead_unit=t.lead_unit, co_units=tuple(t.co_units or ()),
        dispatched_on=t.dispatched_on, deadline=t.deadline, signed_at=t.signed_at,
        first_contact_at=t.first_contact_at, return_count=t.return_count,
        redo_count=t.redo_count, status_before_termination=t.status_before_termination)


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
    def __init__(self, db: Database, rules: CityRules, calendar: WorkCalendar, *,
                 timezone: str = "Asia/Shanghai",
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self.rules = rules
        self.calendar = calendar
        self._tz = ZoneInfo(timezone)
        self._clock = clock
        # SQLite has one writer at a time and refuses a read-then-write transaction that
        # lost a race; in this single-process service ticket writes simply take turns.
        self._write_turn = asyncio.Lock() if db.dialect == "sqlite" else None
        self.on_event: Callable[[], None] | None = None  # wakes the outbox worker

    @property
    def timezone(self) -> str:
        return self._tz.key

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with contextlib.AsyncExitStack() as stack:
            if self._write_turn is not None:
                await stack.enter_async_context(self._write_turn)
            session = await stack.enter_async_context(self._db.session())
            yield session
            await session.commit()
        if self.on_event:
            self.on_event()

    # -- units ------------------------------------------------------------------------------

    async def add_unit(self, code: str, name: str, phone: str,
                       duty_phone: str | None = None) -> dict[str, Any]:
        if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 32:
            raise InvalidField("code", "code: up to 32 letters, digits, - or _")
        for field_name, number in (("phone", phone), ("duty_phone", duty_phone)):
            if number is not None and not number.replace("-", "").isdigit():
                raise InvalidField(field_name, f"{field_name} must be a telephone number")
        async with self._writing() as session:
            existing = await session.get(Unit, code)
            if existing is None:
                session.add(Unit(code=code, name=name, phone=phone, duty_phone=duty_phone))
            else:  # re-adding a unit updates its numbers: admins fix a changed phone this way
                existing.name, existing.phone, existing.duty_phone = name, phone, duty_phone
        return {"code": code, "name": name, "phone": phone, "duty_phone": duty_phone}

    async def units(self) -> list[dict[str, Any]]:
        async with self._db.session() as session:
            rows = await session.scalars(select(Unit).order_by(Unit.code))
            return [{"code": u.code, "name": u.name, "phone": u.phone,
                     "duty_phone": u.duty_phone} for u in rows]

    # -- filing -----------------------------------------------------------------------------

    async def create(self, new: NewTicket, actor: Actor, *, seat: str | None = None,
                     call_ids: list[str] | None = None) -> dict[str, Any]:
        if actor.role == "unit":
            raise NotPermitted("units do not file tickets")
        now = self._clock()
        today = now.astimezone(self._tz).date()
        key = matter_key(new.kind, new.category, new.location or new.address)
        window_start = now - timedelta(days=self.rules.repeat_window_days)
        async with self._writing() as session:
            earlier = await session.scalar(
                select(func.count()).select_from(Ticket).where(
                    Ticket.phone == new.phone, Ticket.matter_key == key,
                    Ticket.created_at >= window_start))
            others = await session.scalar(
                select(func.count(distinct(Ticket.phone))).where(
                    Ticket.matter_key == key, Ticket.created_at >= window_start,
                    Ticket.phone != new.phone))
            times = int(earlier or 0) + 1
            citizens = int(others or 0) + 1
            level = approval_level(times, new.channel)
            number = await self._next_number(session, today)
            status = "not_accepted" if new.not_accepted_reason else "accepted"
            ticket = Ticket(
                id=number, **{k: v for k, v in asdict(new).items() if k != "call_id"},
                matter_key=key, times_by_citizen=times, citizens_on_matter=citizens,
                approval_level=level,
                disposal_mode="escalated_approval" if level else None,
                status=status, co_units=[], operator=actor.name, seat=seat,
                call_ids=call_ids or ([new.call_id] if new.call_id else []),
                created_at=now, updated_at=now, return_count=0, redo_count=0)
            ticket.flags = self._stored_flags(ticket)
            ticket.supervised = bool(ticket.flags)
            session.add(ticket)
            await session.flush()
            if citizens == self.rules.crowd_threshold:
                await self._raise_crowd(session, key, window_start, citizens)
            event = "ticket.not_accepted" if status == "not_accepted" else "ticket.created"
            detail = {"times_by_citizen": times, "citizens_on_matter": citizens,
                      "approval_level": level}
            if new.not_accepted_reason:
                detail |= {"reason": new.not_accepted_reason, "referral": new.referral}
            view = self._record(session, ticket, event, actor, now, detail, today)
        return view

    async def _next_number(self, session: AsyncSession, today: date) -> str:
        day = today.strftime("%Y%m%d")
        insert = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        statement = (insert(TicketSequence).values(day=day, last=1)
                     .on_conflict_do_update(index_elements=[TicketSequence.day],
                                            set_={"last": TicketSequence.last + 1})
                     .returning(TicketSequence.last))
        sequence = (await session.execute(statement)).scalar_one()
        return f"{day}{sequence:05d}"

    async def _raise_crowd(self, session: AsyncSession, key: str, since: datetime,
                           citizens: int) -> None:
        """The matter just reached the crowd threshold: the earlier tickets on it come under
        supervision too. Once only: later tickets are filed with the count already."""
        rows = await session.scalars(select(Ticket).where(
            Ticket.matter_key == key, Ticket.created_at >= since,
            Ticket.citizens_on_matter < citizens))
        for other in rows:
            other.citizens_on_matter = citizens
            other.flags = self._stored_flags(other)
            other.supervised = bool(other.flags)

    def _stored_flags(self, t: Ticket) -> list[str]:
        # "overdue" depends on the day it is read, so it is added by ticket_view, not stored.
        return supervision_flags(SupervisionInput(
            channel=t.channel, times_by_citizen=t.times_by_citizen,
            citizens_on_matter=t.citizens_on_matter, co_units=len(t.co_units or []),
            redo_count=t.redo_count or 0, return_count=t.return_count or 0,
            media_exposure=bool(t.media_exposure), deadline=None, open=False),
            self.rules, self.today())

    # -- lifecycle --------------------------------------------------------------------------

    async def act(self, ticket_id: str, action: str, params: dict[str, Any],
                  actor: Actor) -> dict[str, Any]:
        now = self._clock()
        today = now.astimezone(self._tz).date()
        async with self._writing() as session:
            ticket = await session.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None or not await self._visible(session, ticket, actor):
                raise TicketNotFound(f"no ticket {ticket_id}")
            step = decide(action, _facts(ticket), params,
                          Context(actor, now, today, self.rules, self.calendar))
            if action == "dispatch":
                await self._check_units(session, step)
            self._apply(ticket, step, now)
            await self._assign_units(session, ticket)
            view = self._record(session, ticket, step.event, actor, now, step.detail, today)
        return masking.for_unit(view) if actor.role == "unit" else view

    async def _check_units(self, session: AsyncSession, step: Step) -> None:
        codes = [step.changes["lead_unit"], *step.changes["co_units"]]
        known = set(await session.scalars(select(Unit.code).where(Unit.code.in_(codes))))
        for code in codes:
            if code not in known:
                field_name = "unit" if code == codes[0] else "co_units"
                raise InvalidField(field_name, f"no unit {code!r}; add it with "
                                               "`hotline units add`")

    def _apply(self, ticket: Ticket, step: Step, now: datetime) -> None:
        for name, value in step.changes.items():
            setattr(ticket, name, value)
        ticket.status = step.status
        ticket.updated_at = now
        ticket.flags = self._stored_flags(ticket)
        ticket.supervised = bool(ticket.flags)

    async def _assign_units(self, session: AsyncSession, ticket: Ticket) -> None:
        await session.execute(delete(TicketUnit).where(TicketUnit.ticket_id == ticket.id))
        if ticket.lead_unit:
            session.add(TicketUnit(ticket_id=ticket.id, unit=ticket.lead_unit, role="lead"))
        for code in ticket.co_units or []:
            session.add(TicketUnit(ticket_id=ticket.id, unit=code, role="co"))

    def _record(self, session: AsyncSession, ticket: Ticket, event: str, actor: Actor,
                now: datetime, detail: dict[str, Any], today: date) -> dict[str, Any]:
        """Audit the step and queue it for downstream; returns the ticket's view, rendered
        once for both the outbox payload and the caller's answer."""
        view = ticket_view(ticket, today)
        session.add(TicketEvent(ticket_id=ticket.id, event=event, actor=actor.name,
                                role=actor.role, at=now, status_after=ticket.status,
                                detail=detail))
        key = str(uuid.uuid4())
        session.add(OutboxMessage(
            idempotency_key=key, ticket_id=ticket.id, event=event, created_at=now,
            next_attempt_at=now,
            payload={"idempotency_key": key, "event": event, "ticket_id": ticket.id,
                     "at": now.isoformat(), "actor": actor.name, "role": actor.role,
                     "detail": detail, "ticket": view}))
        return view

    # -- reading ----------------------------------------------------------------------------

    async def _visible(self, session: AsyncSession, ticket: Ticket, actor: Actor) -> bool:
        if actor.role != "unit":
            return True
        assigned = await session.scalar(select(TicketUnit.unit).where(
            TicketUnit.ticket_id == ticket.id, TicketUnit.unit == actor.unit))
        return assigned is not None

    async def get(self, ticket_id: str, actor: Actor) -> dict[str, Any]:
        async with self._db.session() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None or not await self._visible(session, ticket, actor):
                raise TicketNotFound(f"no ticket {ticket_id}")
        view = ticket_view(ticket, self.today())
        return masking.for_unit(view) if actor.role == "unit" else view

    async def events(self, ticket_id: str, actor: Actor) -> list[dict[str, Any]]:
        await self.get(ticket_id, actor)  # the same visibility rule
        async with self._db.session() as session:
            rows = await session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
            return [{"event": e.event, "actor": e.actor, "role": e.role,
                     "at": e.at.isoformat(), "status_after": e.status_after,
                     "detail": e.detail} for e in rows]

    async def search(self, actor: Actor, filters: TicketFilters, *, limit: int = 50,
                     offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        query = select(Ticket)
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
            rows = await session.scalars(
                query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
                .limit(limit).offset(offset))
            views = [ticket_view(t, today) for t in rows]
        if actor.role == "unit":
            views = [masking.for_unit(v) for v in views]
        return views, int(total or 0)

    async def status_of(self, ticket_id: str) -> str | None:
        """For the IVR: the status of a ticket number, no personal data."""
        async with self._db.session() as session:
            return await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
