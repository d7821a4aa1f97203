"""What the supervisor's live page shows: the queue (waiting callers, longest wait, service
level, abandonment), the seats (state, current call, time in state) and the calls in
progress. Derived from the call records and seats, which the AMI tracker keeps current."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.calls.call_log import call_view
from ivr.calls.models import Call
from ivr.schedule.staffing import Staffing
from ivr.seats.models import Seat
from ivr.seats.service import seat_view
from store.db import Database, utcnow

SERVICE_LEVEL_SECONDS = 15  # answered within 15 s counts towards the service level


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class QueueToday:
    """The queue's calls of the local day so far: answered (and of them within
    SERVICE_LEVEL_SECONDS), abandoned. The page and /metrics say the same numbers."""

    answered: int
    answered_in_time: int
    abandoned: int

    @property
    def service_level(self) -> float | None:
        return _rate(self.answered_in_time, self.answered + self.abandoned)

    @property
    def abandonment_rate(self) -> float | None:
        return _rate(self.abandoned, self.answered + self.abandoned)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_ANSWERED = Call.answered.is_not(None)
# Counted in the database, over the day's rows of the `started` index: a busy line's day
# is thousands of calls, and the page and the metrics ask every few seconds.
_QUEUE_TODAY = (_count(_ANSWERED),
                _count(and_(_ANSWERED,
                            func.coalesce(Call.wait_seconds, 0) <= SERVICE_LEVEL_SECONDS)),
                _count(Call.outcome == "abandoned"))


class LiveView:
    def __init__(self, db: Database, queue: str, timezone: str,
                 staffing: Staffing | None = None,
                 speech: Callable[[], dict[str, Any]] | None = None) -> None:
        self._db = db
        self._queue = queue
        self._tz = ZoneInfo(timezone)
        self._staffing = staffing
        self._speech = speech  # SpeechService.counts: streams live, and those that were not

    async def queue_today(self) -> QueueToday:
        async with self._db.session() as session:
            return await self._queue_today(session, utcnow())

    async def _queue_today(self, session: AsyncSession, now: datetime) -> QueueToday:
        local = now.astimezone(self._tz)
        day_start = datetime.combine(local.date(), datetime.min.time(), self._tz)
        row = (await session.execute(select(*_QUEUE_TODAY).where(
            Call.started >= day_start, Call.started < day_start + timedelta(days=1),
            Call.queue.is_not(None)))).one()
        return QueueToday(*(int(n) for n in row))

    async def snapshot(self) -> dict[str, Any]:
        now = utcnow()
        async with self._db.session() as session:
            active = list(await session.scalars(
                select(Call).where(Call.ended.is_(None)).order_by(Call.started)))
            today = await self._queue_today(session, now)
            seats = list(await session.scalars(select(Seat).order_by(Seat.number)))
        waiting = [c for c in active if c.queue and c.answered is None]
        longest = max(((now - (c.queue_joined or c.started)).total_seconds()
                       for c in waiting), default=0.0)
        on_seat = {c.seat: c for c in active if c.seat and c.answered is not None}
        seat_rows = []
        for seat in seats:
            row = seat_view(seat)
            current = on_seat.get(seat.number)
            row["state"] = "on_call" if current else row["state"]
            row["call_id"] = current.id if current else None
            since = current.answered if current else seat.state_changed
            row["seconds_in_state"] = round((now - since).total_seconds()) if since else None
            seat_rows.append(row)
        return {
            "at": now.isoformat(),
            "queue": {
                "name": self._queue, "waiting": len(waiting),
                "longest_wait_seconds": round(longest),
                "answered_today": today.answered, "abandoned_today": today.abandoned,
                "service_level": today.service_level,
                "abandonment_rate": today.abandonment_rate,
                "service_level_seconds": SERVICE_LEVEL_SECONDS,
            },
            "seats": seat_rows,
            "calls": [call_view(c) for c in active],
            "staffing": self._staffing.view() if self._staffing else None,
            "speech": self._speech() if self._speech else None,
        }
