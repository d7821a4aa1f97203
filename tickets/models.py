"""Ticket tables. Shares the declarative base and UTC type of the project's database layer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, UtcDateTime, utcnow


class Unit(Base):
    """A responsible unit (承办单位): department, town, street office, utility."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    duty_phone: Mapped[str | None] = mapped_column(String(32))
    # When the day number is staffed, on working days (tickets/units.py); None: always.
    hours: Mapped[str | None] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"

    # The ticket number: digits only (local date + daily sequence), keyable in the IVR.
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))  # ix_tickets_phone_matter leads with it
    address: Mapped[str | None] = mapped_column(String(200))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(200))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    matter_key: Mapped[str] = mapped_column(String(300))
    times_by_citizen: Mapped[int] = mapped_column(Integer, default=1)
    citizens_on_matter: Mapped[int] = mapped_column(Integer, default=1)
    approval_level: Mapped[str | None] = mapped_column(String(32))
    disposal_mode: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    lead_unit: Mapped[str | None] = mapped_column(String(32))
    co_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    not_accepted_reason: Mapped[str | None] = mapped_column(String(64))
    referral: Mapped[str | None] = mapped_column(String(200))
    requirements: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(String(64))
    seat: Mapped[str | None] = mapped_column(String(32))
    call_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    transcript: Mapped[str | None] = mapped_column(Text)
    media_exposure: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    dispatched_on: Mapped[date | None] = mapped_column(Date)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sign_deadline: Mapped[date | None] = mapped_column(Date)
    return_deadline: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signed_late: Mapped[bool | None] = mapped_column(Boolean)
    first_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_contact_late: Mapped[bool | None] = mapped_column(Boolean)
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    responder: Mapped[str | None] = mapped_column(String(64))
    responder_phone: Mapped[str | None] = mapped_column(String(32))
    reply_approved_by: Mapped[str | None] = mapped_column(String(64))
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    callback_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result_true: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    close_mode: Mapped[str | None] = mapped_column(String(16))
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archive_category: Mapped[str | None] = mapped_column(String(64))
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    redo_count: Mapped[int] = mapped_column(Integer, default=0)
    status_before_termination: Mapped[str | None] = mapped_column(String(32))

    # Covering indexes for the repeat-caller and crowd counts at filing (migration 0006).
    # The supervised index holds only supervised tickets (migration 0010): the supervisor's
    # list reads it, and filing an unsupervised ticket -- most of them -- never writes it.
    __table_args__ = (Index("ix_tickets_phone_matter", "phone", "matter_key", "created_at"),
                      Index("ix_tickets_matter_window", "matter_key", "created_at", "phone"),
                      Index("ix_tickets_supervised", "supervised",
                            sqlite_where=text("supervised IS 1"),
                            postgresql_where=text("supervised IS true")))


class TicketUnit(Base):
    """Which units a ticket is assigned to (lead and co-units): what a unit user may see."""

    __tablename__ = "ticket_units"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(8))  # "lead" | "co"


class TicketEvent(Base):
    """The audit trail: every step, who took it, when, and what it said."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    event: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status_after: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TicketSequence(Base):
    """The last ticket number issued on each local day."""

    __tablename__ = "ticket_sequences"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


_PENDING = text("delivered_at IS NULL AND dead_at IS NULL")  # the same on both databases
_DEAD = text("dead_at IS NOT NULL")


class OutboxMessage(Base):
    """A ticket event waiting to be delivered downstream; written in the event's transaction."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    # The worker reads the messages still to deliver, in order; the admins' view the dead
    # ones. Each index holds only its own (migration 0010): delivered messages, nearly all
    # of them, are in neither, and a new message is written to the first alone.
    __table_args__ = (Index("ix_outbox_pending", "id", sqlite_where=_PENDING,
                            postgresql_where=_PENDING),
                      Index("ix_outbox_dead", "id", sqlite_where=_DEAD, postgresql_where=_DEAD))
