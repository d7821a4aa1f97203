"""The audit trail of supervisors listening in (监听/耳语/强插)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, UtcDateTime, utcnow


class ListenInAction(Base):
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
