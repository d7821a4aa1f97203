"""Callback requests and voice messages (回拨/留言) waiting for an operator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, UtcDateTime, utcnow


class CallbackRequest(Base):
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
