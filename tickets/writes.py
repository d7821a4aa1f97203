"""The ticket changes themselves, as functions of a synchronous connection: filing a ticket and
taking a lifecycle step. Each is one transaction that also writes its audit event and its
outbox message, so downstream never misses a change.

TicketWrites holds only configuration (rules, calendar, time zone) and a cache of known unit
codes, and it pickles: the service hands its bound methods to `write` (store/transactions.py),
which runs them in a writer process of their own on an SQLite file, elsewhere on the
database's writer."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from tickets import masking, queries
from tickets.calendar import WorkCalendar
from tickets.errors import InvalidField, NotPermitted, TicketNotFound
from tickets.escalation import OversightInput, approval_level, matter_key, oversight_flags
from tickets.filing import NEW_TICKET_FIELDS, NewTicket
from tickets.lifecycle import Actor, Context, Step, TicketFacts, decide
from tickets.rules import CityRules
from tickets.views import ticket_view

FLAG_COLUMNS = ("flags", "supervised")


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


class TicketWrites:
    def __init__(self, rules: CityRules, calendar: WorkCalendar,
                 timezone: str = "Asia/Shanghai") -> None:
        self.rules = rules
        self.calendar = calendar
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        self._units_seen: set[str] = set()

    def __reduce__(self) -> tuple[Any, ...]:
        # Configuration only: the writer process builds its own caches.
        return TicketWrites, (self.rules, self.calendar, self.timezone)

    def _today(self, now: datetime) -> date:
        return now.astimezone(self._tz).date()

    # -- filing -----------------------------------------------------------------------------

    def create(self, conn: Connection, new: NewTicket, actor: Actor, now: datetime,
               seat: str | None, call_ids: list[str] | None) -> dict[str, Any]:
        if actor.role == "unit":
            raise NotPermitted("units do not file tickets")
        today = self._today(now)
        key = matter_key(new.kind, new.category, new.location or new.address)
        window_start = now - timedelta(days=self.rules.repeat_window_days)
        earlier, others = queries.filings_in_window(conn, new.phone, key, window_start)
        times, citizens = earlier + 1, others + 1
        level = approval_level(times, new.channel)
        sequence = queries.next_sequence(conn, today.strftime("%Y%m%d"))
        status = "not_accepted" if new.not_accepted_reason else "accepted"
        fields_given = {k: getattr(new, k) for k in NEW_TICKET_FIELDS if k != "call_id"}
        ticket = dict.fromkeys(queries.TICKET_COLUMNS) | fields_given | {
            "id": f"{today:%Y%m%d}{sequence:05d}", "matter_key": key,
            "times_by_citizen": times, "citizens_on_matter": citizens,
            "approval_level": level,
            "disposal_mode": "escalated_approval" if level else None,
            "status": status, "co_units": [], "operator": actor.name, "seat": seat,
            "call_ids": call_ids or ([new.call_id] if new.call_id else []),
            "created_at": now, "updated_at": now, "return_count": 0, "redo_count": 0}
        self._flag(ticket, today)
        queries.insert_ticket(conn, ticket)
        if citizens == self.rules.crowd_threshold:
            self._raise_crowd(conn, key, window_start, citizens, today)
        event = "ticket.not_accepted" if status == "not_accepted" else "ticket.created"
        detail = {"times_by_citizen": times, "citizens_on_matter": citizens,
                  "approval_level": level}
        if new.not_accepted_reason:
            detail |= {"reason": new.not_accepted_reason, "referral": new.referral}
        return _record(conn, ticket, event, actor, now, detail, today)

    def _raise_crowd(self, conn: Connection, key: str, since: datetime, citizens: int,
                     today: date) -> None:
        """The matter just reached the crowd threshold: the earlier tickets on it come under
        supervision too. Once only: later tickets are filed with the count already."""
        for other in queries.behind_crowd(conn, key, since, citizens):
            other["citizens_on_matter"] = citizens
            self._flag(other, today)
            queries.save(conn, other, ("citizens_on_matter", *FLAG_COLUMNS))

    def _flag(self, t: dict[str, Any], today: date) -> None:
        """Set the stored supervision flags (FLAG_COLUMNS) from the ticket's facts."""
        # "overdue" depends on the day it is read, so it is added by ticket_view, not stored.
        t["flags"] = oversight_flags(OversightInput(
            channel=t["channel"], times_by_citizen=t["times_by_citizen"],
            citizens_on_matter=t["citizens_on_matter"], co_units=len(t["co_units"] or []),
            redo_count=t["redo_count"] or 0, return_count=t["return_count"] or 0,
            media_exposure=bool(t["media_exposure"]), deadline=None, open=False),
            self.rules, today)
        t["supervised"] = bool(t["flags"])

    # -- lifecycle --------------------------------------------------------------------------

    def act(self, conn: Connection, ticket_id: str, action: str, params: dict[str, Any],
            actor: Actor, now: datetime) -> dict[str, Any]:
        """One lifecycle step; the answer is masked for a unit."""
        today = self._today(now)
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
        self._flag(ticket, today)
        queries.save(conn, ticket, sorted({*step.changes, "status", "updated_at",
                                            *FLAG_COLUMNS}))
        if _units_of(ticket) != units_before:  # who may see it changes with them
            queries.assign_units(conn, ticket_id, ticket["lead_unit"],
                                 ticket["co_units"] or [],
                                 had_units=units_before != (None, ()))
        view = _record(conn, ticket, step.event, actor, now, step.detail, today)
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


def _record(conn: Connection, ticket: dict[str, Any], event: str, actor: Actor,
            now: datetime, detail: dict[str, Any], today: date) -> dict[str, Any]:
    """Audit the step and queue it for downstream; returns the ticket's view, rendered
    once for both the outbox payload and the caller's answer."""
    view = ticket_view(ticket, today)
    queries.audit(conn, {"ticket_id": ticket["id"], "event": event, "actor": actor.name,
                        "role": actor.role, "at": now, "status_after": ticket["status"],
                        "detail": detail})
    key = time_ordered_key()
    queries.enqueue(conn, {
        "idempotency_key": key, "ticket_id": ticket["id"], "event": event,
        "created_at": now, "next_attempt_at": now, "attempts": 0,
        "payload": {"idempotency_key": key, "event": event, "ticket_id": ticket["id"],
                    "at": now.isoformat(), "actor": actor.name, "role": actor.role,
                    "detail": detail, "ticket": view}})
    return view


def time_ordered_key() -> str:
    """A UUIDv7 (RFC 9562): the millisecond, then 74 random bits. The outbox's unique index
    on the key then grows at its end like the table does, where a random UUID4 wrote one more
    page, somewhere in the middle, for every message of a commit."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC's variant
    return str(uuid.UUID(int=value))
