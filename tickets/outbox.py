"""Delivers ticket events downstream (HOTLINE_DOWNSTREAM_URL) from the transactional outbox.

At least once, in order, with an Idempotency-Key header, so the receiver applies each event
exactly once in effect. A receiver that is down, slow, or answers 408/429/5xx is retried
with capped exponential backoff for as long as it takes; an event it rejects outright (any
other 4xx) would never be accepted, so it goes to the dead-letter list for an admin to fix
and retry instead of blocking every later event. Nothing is lost across restarts: the
outbox lives in the same database as the tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import func, select, update

from store.db import Database, utcnow
from store.tasks import cancel_and_wait
from tickets.models import OutboxMessage

log = logging.getLogger(__name__)

RETRYABLE = {408, 425, 429}
# Still to deliver: exactly the rows of the partial index ix_outbox_pending (tickets/models.py),
# which the queries below use only while their condition reads the same.
PENDING = (OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None))


def backoff_seconds(attempts: int, cap: float) -> float:
    return float(min(cap, 2 ** max(0, attempts - 1)))


def message_view(m: OutboxMessage) -> dict[str, Any]:
    state = "delivered" if m.delivered_at else "dead" if m.dead_at else "pending"
    return {"id": m.id, "event": m.event, "ticket_id": m.ticket_id, "state": state,
            "attempts": m.attempts, "created_at": m.created_at.isoformat(),
            "next_attempt_at": m.next_attempt_at.isoformat(),
            "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None,
            "last_error": m.last_error, "idempotency_key": m.idempotency_key}


class OutboxWorker:
    def __init__(self, db: Database, url: str, *, timeout: float = 5.0, max_backoff: float = 60.0,
                 batch: int = 100) -> None:
        self._db = db
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_backoff = max_backoff
        self._batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=self._timeout)
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        if self._http:
            await self._http.close()

    async def _run(self) -> None:
        while True:
            # Cleared before the round, not after: a wake-up (a new event, an admin's retry)
            # that comes while the round reads the outbox must start another round, not
            # be lost to a sleep of up to 30 s.
            self._wake.clear()
            try:
                await self.deliver_due()
                pause = await self._seconds_until_due()
            except Exception:
                log.exception("outbox round failed; trying again")
                pause = 1.0
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that arrives as the wake-up does, and the worker would not stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._wake.wait()

    async def _seconds_until_due(self) -> float:
        async with self._db.session() as session:
            due = await session.scalar(
                select(OutboxMessage.next_attempt_at).where(*PENDING)
                .order_by(OutboxMessage.id).limit(1))
        if due is None:
            return 30.0
        return max(0.05, min(30.0, (due - utcnow()).total_seconds()))

    async def deliver_due(self) -> int:
        """One round: post pending messages in order, stopping at the first that must wait
        (not due yet, or failing now): no event ever overtakes an earlier one."""
        async with self._db.session() as session:
            pending = list(await session.scalars(
                select(OutboxMessage).where(*PENDING)
                .order_by(OutboxMessage.id).limit(self._batch)))
        delivered = 0
        for message in pending:
            if message.next_attempt_at > utcnow():
                break
            outcome, error = await self._post(message)
            now = utcnow()
            if outcome == "delivered":
                await self._mark(message.id, delivered_at=now, attempts=message.attempts + 1,
                                 last_error=None)
                delivered += 1
            elif outcome == "dead":
                log.error("outbox %s (%s) rejected downstream: %s", message.id,
                          message.event, error)
                await self._mark(message.id, dead_at=now, attempts=message.attempts + 1,
                                 last_error=error)
            else:
                attempts = message.attempts + 1
                wait = backoff_seconds(attempts, self._max_backoff)
                log.warning("outbox %s not delivered (%s); retry in %.0fs", message.id,
                            error, wait)
                await self._mark(message.id, attempts=attempts, last_error=error,
                                 next_attempt_at=now + timedelta(seconds=wait))
                break  # later events wait: the receiver sees them in order
        return delivered

    async def _post(self, message: OutboxMessage) -> tuple[str, str | None]:
        assert self._http is not None
        headers = {"Idempotency-Key": message.idempotency_key,
                   "X-Hotline-Event": message.event}
        try:
            async with self._http.post(self._url, json=message.payload, headers=headers) as r:
                if 200 <= r.status < 300:
                    return "delivered", None
                error = f"HTTP {r.status}"
                if r.status >= 500 or r.status in RETRYABLE:
                    return "retry", error
                return "dead", error
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return "retry", f"{type(exc).__name__}: {exc}"[:500]

    async def _mark(self, message_id: int, **values: datetime | int | str | None) -> None:
        await self._db.write(lambda conn: conn.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)))


class OutboxAdmin:
    """The dead-letter view and retry, for admins and supervisors."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def messages(self, state: str, limit: int, offset: int
                       ) -> tuple[list[dict[str, Any]], int]:
        query = select(OutboxMessage)
        if state == "dead":
            query = query.where(OutboxMessage.dead_at.is_not(None))
        elif state == "pending":
            query = query.where(*PENDING)
        elif state == "delivered":
            query = query.where(OutboxMessage.delivered_at.is_not(None))
        async with self._db.session() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.scalars(query.order_by(OutboxMessage.id.desc())
                                         .limit(limit).offset(offset))
            return [message_view(m) for m in rows], int(total or 0)

    async def backlog(self) -> dict[str, int]:
        """How many events wait to be delivered ("pending") and how many were refused
        ("dead"): two counts, each over its own partial index (models.py), never over the
        delivered ones, which are nearly all."""
        async with self._db.session() as session:
            pending = await session.scalar(select(func.count()).where(*PENDING))
            dead = await session.scalar(select(func.count()).where(
                OutboxMessage.dead_at.is_not(None)))
            return {"pending": int(pending or 0), "dead": int(dead or 0)}

    async def retry(self, message_id: int) -> bool:
        now = utcnow()
        retried = await self._db.write(lambda conn: conn.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id,
                                        OutboxMessage.delivered_at.is_(None))
            .values(dead_at=None, next_attempt_at=now)).rowcount)
        return bool(retried)
