"""The call record: one row per citizen call, from arrival to hang-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, Text
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
    transcript: Mapped[str | None] = mapped_column(Text)  # the segments as text
    transcript_segments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    ticket_id: Mapped[str | None] = mapped_column(String(20), index=True)
