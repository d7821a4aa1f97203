"""Callback requests and voice messages from callers who could not wait, or called when
no operator was on duty: one task each, with a ticket draft, on the operators' list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from ivr.callback_requests.models import CallbackRequest
from ivr.calls.call_log import CallLog, update_call
from ivr.errors import NotFound
from store.db import Database, dialect_insert, utcnow
from store.transactions import with_session

KINDS = {"callback": "来电人请求回拨", "message": "来电人留言，请听取录音后回复"}


def task_view(t: CallbackRequest) -> dict[str, Any]:
    return {"id": t.id, "call_id": t.call_id, "kind": t.kind, "phone": t.phone,
            "recording": f"/api/callbacks/{t.id}/recording" if t.recording else None,
            "draft": t.draft, "requested_at": t.requested_at.isoformat(),
            "done_at": t.done_at.isoformat() if t.done_at else None, "done_by": t.done_by,
            "note": t.note}


class CallbackRequests:
    def __init__(self, db: Database, call_log: CallLog) -> None:
        self._db = db
        self._calls = call_log

    async def register(self, call_id: str, phone: str, kind: str,
                       recording: str | None = None) -> None:
        """Idempotent per call and kind: a hang-up after the message does not double it."""
        try:
            call = await self._calls.get(call_id)
            request_kind = call.request_kind or "consultation"
        except NotFound:
            request_kind = "consultation"
        draft = {"phone": phone, "kind": request_kind, "call_id": call_id,
                 "content": KINDS[kind], "channel": "phone"}
        task = {"call_id": call_id, "kind": kind, "phone": phone, "recording": recording,
                "draft": draft, "requested_at": utcnow()}

        def store(conn: Connection) -> None:
            # The task and the call's route in one transaction: a crash between them
            # cannot leave a callback the call record does not mention.
            conn.execute(dialect_insert(conn.dialect.name)(CallbackRequest).values(**task)
                         .on_conflict_do_nothing())
            update_call(conn, call_id, route=kind)

        await self._db.write(store)

    async def list(self, state: str, limit: int, offset: int
                   ) -> tuple[list[dict[str, Any]], int]:
        query = select(CallbackRequest)
        if state == "open":
            query = query.where(CallbackRequest.done_at.is_(None))
        elif state == "done":
            query = query.where(CallbackRequest.done_at.is_not(None))
        async with self._db.session() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.scalars(query.order_by(CallbackRequest.requested_at)
                                         .limit(limit).offset(offset))
            return [task_view(t) for t in rows], int(total or 0)

    async def get(self, task_id: int) -> CallbackRequest:
        async with self._db.session() as session:
            task = await session.get(CallbackRequest, task_id)
        if task is None:
            raise NotFound(f"no callback task {task_id}")
        return task

    async def done(self, task_id: int, by: str, note: str | None) -> dict[str, Any]:
        done_at = utcnow()

        def store(session: Session) -> CallbackRequest:
            task = session.get(CallbackRequest, task_id)
            if task is None:
                raise NotFound(f"no callback task {task_id}")
            task.done_at, task.done_by, task.note = done_at, by, note
            return task

        task = await self._db.write(with_session, store)
        return task_view(task)
