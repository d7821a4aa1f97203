"""Operator seats and the queue state each last asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, false
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, UtcDateTime, utcnow


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
