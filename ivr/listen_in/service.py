"""Supervisors listen to, whisper to, or barge into an operator's call (班长监听/耳语/强插).

The supervisor's own phone (their seat) rings; on answer it joins ChanSpy on the operator's
leg of the call. Every request is written to the audit log first, then carried out; the
AMI Originate is never repeated by the client if the connection drops.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ivr.calls.call_log import CallLog
from ivr.errors import AmiError, HotlineError
from ivr.listen_in.models import ListenInAction
from ivr.telephony.ami_client import AmiClient
from store.db import Database, utcnow
from store.transactions import with_session

# ChanSpy options: q quiet (no beep and name), E end when the spied channel hangs up,
# S stop when no channel is left; w whisper (only the operator hears), B barge (all hear).
MODES = {"listen": "qES", "whisper": "qESw", "barge": "qESB"}
MODE_LABELS = {"listen": "监听", "whisper": "耳语", "barge": "强插"}


class CannotListenIn(HotlineError):
    """The call is not in a state that can be listened to."""

    http_status = 409


def chanspy_data(target_seat: str, mode: str) -> str:
    # "PJSIP/1001-" spies only on that seat's channels, never on a seat whose number
    # merely starts with the same digits (PJSIP/10011).
    return f"PJSIP/{target_seat}-,{MODES[mode]}"


def action_view(a: ListenInAction) -> dict[str, Any]:
    return {"id": a.id, "supervisor": a.supervisor, "supervisor_seat": a.supervisor_seat,
            "mode": a.mode, "mode_label": MODE_LABELS[a.mode], "call_id": a.call_id,
            "target_seat": a.target_seat, "at": a.at.isoformat(), "result": a.result}


class ListenInService:
    def __init__(self, db: Database, call_log: CallLog, ami: AmiClient | None = None) -> None:
        self._db = db
        self._calls = call_log
        self.ami = ami

    async def supervise(self, call_id: str, mode: str, supervisor: str,
                        supervisor_seat: str | None) -> dict[str, Any]:
        if mode not in MODES:
            raise CannotListenIn(f"mode must be one of {', '.join(MODES)}")
        if not supervisor_seat:
            raise CannotListenIn("your user has no seat: the listening phone is your seat's")
        call = await self._calls.get(call_id)
        if call.ended is not None or call.answered is None or not call.seat:
            raise CannotListenIn("only a call an operator is on right now can be "
                                  f"{MODE_LABELS[mode]}ed")
        if call.seat == supervisor_seat:
            raise CannotListenIn("that is your own call")
        def record(session: Session) -> ListenInAction:
            action = ListenInAction(supervisor=supervisor, supervisor_seat=supervisor_seat,
                                       mode=mode, call_id=call_id, target_seat=call.seat,
                                       at=utcnow(), result="requested")
            session.add(action)
            return action

        action = await self._db.write(with_session, record)
        result = "failed"
        try:
            if self.ami is None:
                raise AmiError("no AMI connection")
            await self.ami.action(
                "Originate", timeout=10, Channel=f"PJSIP/{supervisor_seat}",
                Application="ChanSpy", Data=chanspy_data(call.seat, mode),
                CallerID=f"\"{MODE_LABELS[mode]} {call.seat}\" <{call.seat}>",
                Timeout="30000", Async="true", Variable=f"HOTLINE_CALL_ID={call_id}")
            result = "supervisor phone ringing"
        except AmiError as exc:
            result = f"failed: {exc}"[:200]
            raise
        finally:
            await self._record_result(action.id, result)
        return action_view(action) | {"result": result}

    async def _record_result(self, action_id: int, result: str) -> None:
        await self._db.write(lambda conn: conn.execute(
            update(ListenInAction).where(ListenInAction.id == action_id)
            .values(result=result)))

    async def log(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        async with self._db.session() as session:
            total = await session.scalar(select(func.count()).select_from(ListenInAction))
            rows = await session.scalars(select(ListenInAction).order_by(
                ListenInAction.id.desc()).limit(limit).offset(offset))
            return [action_view(a) for a in rows], int(total or 0)
