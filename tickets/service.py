"""Ticket use cases: file, act, read, search. Each change is one transaction that also
writes its audit event and its outbox message, so downstream never misses a change."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select

from store.db import Database, utcnow
from tickets import masking, queries
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
from tickets.models import Ticket, TicketEvent, TicketUnit, Unit
from tickets.rules import CityRules

# Statuses in which the unit still owes work: a passed deadline makes them overdue.
OWED = frozenset({"dispatched", "processing"})
MAX_CONTENT = 5000
T = TypeVar("T")
FLAG_COLUMNS = ("flags", "supervised")


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


NEW_TICKET_FIELDS = tuple(f.name for f in fields(NewTicket))


def parse_new_ticket(body: dict[str, Any]) -> NewTicket:
    """Validate a filing request; raises InvalidField naming the first bad field."""
    unknown = sorted(set(body).difference(NEW_TICKET_FIELDS))
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


def ticket_view(t: Mapping[str, Any], today: date) -> dict[str, Any]:
    overdue = t["status"] in OWED and t["deadline"] is not None and today > t["deadline"]
    view = {c: t[c] for c in (
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
        view[c] = _iso(t[c])
    view["overdue"] = overdue
    view["flags"] = [*t["flags"], "overdue"] if overdue else list(t["flags"])
    view["supervised"] = bool(view["flags"])
    view["kind_label"] = KINDS.get(t["kind"], t["kind"])
    view["status_label"] = STATUSES.get(t["status"], t["status"])
    return view


def _units_of(t: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    return t["lead_unit"], tuple(t["co_units"] or ())


def _facts(t: Mapping[str, Any]) -> TicketFacts:
    return TicketFacts(
        status=t["status"], kind=t["kind"], channel=t["channel"],
        approval_level=t["approval_level"], lead_unit=t["lead_unit"],
        co_units=tuple(t["co_units"] or ()), dispatched_on=t["dispatched_on"],
        deadline=t["deadline"], signed_at=t["signed_at"],
        first_contact_at=t["first_contact_at"], return_count=t["return_count"],
        redo_count=t["redo_count"], status_before_termination=t["status_before_termination"])


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
        self.on_event: Callable[[], None] | None = None  # wakes the outbox worker
        self._units_seen: set[str] = set()

    @property
    def timezone(self) -> str:
        return self._tz.key

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """One transaction on the writer; the outbox worker wakes for what it committed."""
        result = await self._db.write(work)
        if self.on_event:
            self.on_event()
        return result

    # -- units ------------------------------------------------------------------------------

    async def add_unit(self, code: str, name: str, phone: str,
                       duty_phone: str | None = None) -> dict[str, Any]:
        """Re-adding a unit updates its numbers: admins fix a changed phone this way."""
        if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 32:
            raise InvalidField("code", "code: up to 32 letters, digits, - or _")
        for field_name, number in (("phone", phone), ("duty_phone", duty_phone)):
            if number is not None and not number.replace("-", "").isdigit():
                raise InvalidField(field_name, f"{field_name} must be a telephone number")
        unit = {"code": code, "name": name, "phone": phone, "duty_phone": duty_phone}
        await self._write(lambda conn: queries.put_unit(conn, unit))
        return unit

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
        fields_given = {k: getattr(new, k) for k in NEW_TICKET_FIELDS if k != "call_id"}

        def work(conn: Connection) -> dict[str, Any]:
            earlier, others = queries.filings_in_window(conn, new.phone, key, window_start)
            times, citizens = earlier + 1, others + 1
            level = approval_level(times, new.channel)
            sequence = queries.next_sequence(conn, today.strftime("%Y%m%d"))
            status = "not_accepted" if new.not_accepted_reason else "accepted"
            ticket = dict.fromkeys(queries.TICKET_COLUMNS) | fields_given | {
                "id": f"{today:%Y%m%d}{sequence:05d}", "matter_key": key,
                "times_by_citizen": times, "citizens_on_matter": citizens,
                "approval_level": level,
                "disposal_mode": "escalated_approval" if level else None,
                "status": status, "co_units": [], "operator": actor.name, "seat": seat,
                "call_ids": call_ids or ([new.call_id] if new.call_id else []),
                "created_at": now, "updated_at": now, "return_count": 0, "redo_count": 0}
            self._flag(ticket)
            queries.insert_ticket(conn, ticket)
            if citizens == self.rules.crowd_threshold:
                self._raise_crowd(conn, key, window_start, citizens)
            event = "ticket.not_accepted" if status == "not_accepted" else "ticket.created"
            detail = {"times_by_citizen": times, "citizens_on_matter": citizens,
                      "approval_level": level}
            if new.not_accepted_reason:
                detail |= {"reason": new.not_accepted_reason, "referral": new.referral}
            return self._record(conn, ticket, event, actor, now, detail, today)

        return await self._write(work)

    def _raise_crowd(self, conn: Connection, key: str, since: datetime,
                     citizens: int) -> None:
        """The matter just reached the crowd threshold: the earlier tickets on it come under
        supervision too. Once only: later tickets are filed with the count already."""
        for other in queries.behind_crowd(conn, key, since, citizens):
            other["citizens_on_matter"] = citizens
            self._flag(other)
            queries.save(conn, other, ("citizens_on_matter", *FLAG_COLUMNS))

    def _flag(self, t: dict[str, Any]) -> None:
        """Set the stored supervision flags (FLAG_COLUMNS) from the ticket's facts."""
        # "overdue" depends on the day it is read, so it is added by ticket_view, not stored.
        t["flags"] = supervision_flags(SupervisionInput(
            channel=t["channel"], times_by_citizen=t["times_by_citizen"],
            citizens_on_matter=t["citizens_on_matter"], co_units=len(t["co_units"] or []),
            redo_count=t["redo_count"] or 0, return_count=t["return_count"] or 0,
            media_exposure=bool(t["media_exposure"]), deadline=None, open=False),
            self.rules, self.today())
        t["supervised"] = bool(t["flags"])

    # -- lifecycle --------------------------------------------------------------------------

    async def act(self, ticket_id: str, action: str, params: dict[str, Any],
                  actor: Actor) -> dict[str, Any]:
        now = self._clock()
        today = now.astimezone(self._tz).date()

        def work(conn: Connection) -> dict[str, Any]:
            ticket = queries.load(conn, ticket_id, for_update=True)
            if ticket is None or (actor.role == "unit"
                                  and not queries.assigned(conn, ticket_id, actor.unit)):
                raise TicketNotFound(f"no ticket {ticket_id}")
            step = decide(action, _facts(ticket), params,
                          Context(actor, now, today, self.rules, self.calendar))
            if action == "dispatch":
                self._check_units(conn, step)
            units_before = _units_of(ticket)
            ticket |= step.changes
            ticket["status"], ticket["updated_at"] = step.status, now
            self._flag(ticket)
            queries.save(conn, ticket, sorted({*step.changes, "status", "updated_at",
                                                *FLAG_COLUMNS}))
            if _units_of(ticket) != units_before:  # who may see it changes with them
                queries.assign_units(conn, ticket_id, ticket["lead_unit"],
                                     ticket["co_units"] or [],
                                     had_units=units_before != (None, ()))
            return self._record(conn, ticket, step.event, actor, now, step.detail, today)

        view = await self._write(work)
        return masking.for_unit(view) if actor.role == "unit" else view

    def _check_units(self, conn: Connection, step: Step) -> None:
        codes = [step.changes["lead_unit"], *step.changes["co_units"]]
        if self._units_seen.issuperset(codes):
            return
        known = queries.known_units(conn, codes)
        # Units are never deleted, so a unit once seen stays valid; one added later (by
        # `hotline units add` in another process) is simply looked up when first named.
        self._units_seen |= known
        for code in codes:
            if code not in known:
                field_name = "unit" if code == codes[0] else "co_units"
                raise InvalidField(field_name, f"no unit {code!r}; add it with "
                                               "`hotline units add`")

    def _record(self, conn: Connection, ticket: dict[str, Any], event: str, actor: Actor,
                now: datetime, detail: dict[str, Any], today: date) -> dict[str, Any]:
        """Audit the step and queue it for downstream; returns the ticket's view, rendered
        once for both the outbox payload and the caller's answer."""
        view = ticket_view(ticket, today)
        queries.audit(conn, {"ticket_id": ticket["id"], "event": event, "actor": actor.name,
                            "role": actor.role, "at": now, "status_after": ticket["status"],
                            "detail": detail})
        key = str(uuid.uuid4())
        queries.enqueue(conn, {
            "idempotency_key": key, "ticket_id": ticket["id"], "event": event,
            "created_at": now, "next_attempt_at": now, "attempts": 0,
            "payload": {"idempotency_key": key, "event": event, "ticket_id": ticket["id"],
                        "at": now.isoformat(), "actor": actor.name, "role": actor.role,
                        "detail": detail, "ticket": view}})
        return view

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

    async def status_of(self, ticket_id: str) -> str | None:
        """For the IVR: the status of a ticket number, no personal data."""
        async with self._db.session() as session:
            return await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
