"""Tables of the telephony side: calls, users and login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, UtcDateTime, utcnow


class Call(Base):
    """One citizen call, keyed by the Asterisk unique id of its inbound channel."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller: Mapped[str] = mapped_column(String(64), index=True, default="")
    started: Mapped[datetime] = mapped_column(UtcDateTime, index=True, default=utcnow)
    answered: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    ivr_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    request_kind: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[str | None] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(64))
    queue_joined: Mapped[datetime | None] = mapped_column(UtcDateTime)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    seat: Mapped[str | None] = mapped_column(String(32))
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    outcome: Mapped[str | None] = mapped_column(String(32))
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    recording: Mapped[str | None] = mapped_column(String(512))
    transcript: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[str | None] = mapped_column(String(20), index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    seat: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuthSession(Base):
    """A login: the token itself is never stored, only its SHA-256."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires: Mapped[datetime] = mapped_column(UtcDateTime)


class Seat(Base):
    """An operator seat (编号上岗): a PJSIP endpoint with digest auth, and its queue state.

    Only the digest hash md5(number:realm:password) is kept, never the password. The state
    the operator last asked for is kept too, so it is restored after Asterisk restarts.
    """

    __tablename__ = "seats"

    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    password_digest: Mapped[str] = mapped_column(String(64))
    in_queue: Mapped[bool] = mapped_column(default=False)
    paused: Mapped[bool] = mapped_column(default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    state_changed: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # A night seat (夜间值班) signs into the night queue: it answers outside staffed hours,
    # and in them whenever no day seat is on duty.
    night: Mapped[bool] = mapped_column(default=False, server_default=false())


class SupervisionAction(Base):
    """Audit of every listen / whisper / barge: who, when, on which call and seat."""

    __tablename__ = "supervision_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    supervisor: Mapped[str] = mapped_column(String(64))
    supervisor_seat: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    target_seat: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    result: Mapped[str] = mapped_column(String(200))


class CallbackTask(Base):
    """A citizen asked to be called back, or left a message: a task on the operators' list,
    with a ticket draft to file when they call back."""

    __tablename__ = "callbacks"
    __table_args__ = (UniqueConstraint("call_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "callback" | "message"
    phone: Mapped[str] = mapped_column(String(32), index=True)
    recording: Mapped[str | None] = mapped_column(String(512))
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
