"""Transfers and three-way calls (转接/三方通话/联动转接): the operator's requests, the AMI
events of the legs, and the steps the leg's rules (ivr/transfers/legs.py) ask for.

One open leg per call at a time. Everything that changes a leg — an operator's click, an
AMI event, the hold limit — runs under the call's lock, in order, so two clicks at once or
a click racing the unit's answer meet a leg that is either before or after the other.
Each change is written to the call record's `transfers` and sent to the operator's and the
supervisors' browsers. After an AMI reconnect the live state is read back from Asterisk
(resync): nobody is left on hold because an event was missed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ivr.calls.call_log import CallLog, new_leg
from ivr.errors import AmiError, HotlineError, NotFound
from ivr.log_format import call_context
from ivr.telephony.ami_client import Message
from ivr.telephony.ami_events import OrderedEvents, channel_var
from ivr.telephony.dialplan_vars import CALL_ID, LEG_ID_PREFIX
from ivr.transfers.briefing import briefing_prompts, briefing_variable
from ivr.transfers.control import TransferControl
from ivr.transfers.events import leg_event
from ivr.transfers.fallback import HOTLINE_CALLER_ID, Fallback
from ivr.transfers.legs import (
    Cancel,
    CitizenGone,
    Complete,
    Do,
    Happened,
    HoldTooLong,
    Leave,
    Leg,
    Mode,
    NotNow,
    OperatorGone,
    UnitGone,
    react,
)
from ivr.transfers.recovery import alone_in_rooms, restored_leg
from store.db import utcnow

log = logging.getLogger(__name__)

OPERATOR_ROOM = {"blind": "free", "consult": "consult", "conference": "member"}
CLICKS: dict[str, type[Complete | Cancel | Leave]] = {
    "complete": Complete, "cancel": Cancel, "leave": Leave}
Publish = Callable[[str, dict[str, Any]], None]  # (seat, message): to that seat's browsers
UnitLookup = Callable[[str], Any]  # code → awaitable (unit, number); TicketService.unit_to_call
KindLookup = Callable[[str], Awaitable[str | None]]  # ticket → its kind; TicketService.kind_of
LegEnded = Callable[[str, str], None]  # (mode, outcome) of a leg that ended: the metrics


async def _nothing() -> None:
    return None


class CannotTransfer(HotlineError):
    """The call cannot be transferred now (409, saying why)."""

    http_status = 409


class TransferService:
    def __init__(self, call_log: CallLog, find_unit: UnitLookup, control: TransferControl,
                 *, ring_seconds: int = 30, hold_limit_seconds: int = 180,
                 ring_back_seconds: int = 20, publish: Publish | None = None,
                 ticket_kind: KindLookup | None = None) -> None:
        self._calls = call_log
        self._find_unit = find_unit
        self._control = control
        self._ring_seconds = ring_seconds
        self._hold_limit = hold_limit_seconds
        self.publish = publish
        self.on_leg_ended: LegEnded | None = None
        self._ticket_kind = ticket_kind
        self._open: dict[str, Leg] = {}  # call id → its open leg
        self._records: dict[str, dict[str, Any]] = {}  # leg id → its record, as stored
        self._call_of_leg: dict[str, str] = {}  # leg id → call id
        self._fallback = Fallback(control, ring_back_seconds)
        self._locks: dict[str, asyncio.Lock] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}  # leg id → hold limit / failure
        self._later_tasks: set[asyncio.Task[dict[str, Any]]] = set()
        # AMI events of the legs, in order, off the reader
        self._events = OrderedEvents(("Newstate", "Hangup", "OriginateResponse"),
                                     self._on_ami, "transfers")
        self.on_event = self._events.on_event  # called by the AMI reader for every event

    async def start(self) -> None:
        await self._events.start()

    async def idle(self) -> None:
        await self._events.idle()

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        for task in self._later_tasks:
            task.cancel()
        await self._events.stop()

    def open_leg(self, call_id: str) -> dict[str, Any] | None:
        leg = self._open.get(call_id)
        return dict(self._records[leg.id]) if leg else None

    # -- the operator's requests ------------------------------------------------------------
    async def request(self, call_id: str, seat: str | None, mode: Mode, *,
                      unit: str | None = None, number: str | None = None) -> dict[str, Any]:
        """Transfer or conference the call to a unit (by code) or an emergency number."""
        if not seat:
            raise CannotTransfer("your user has no seat: transfers are made from a seat")
        async with self._lock(call_id):
            if call_id in self._open:
                raise CannotTransfer(
                    f"a transfer of this call is already under way ({self._open[call_id].id})")
            # What the leg needs, read at once: the operator waits on this (request→INVITE).
            # Whatever else failed, a call that is not this operator's is refused for that
            # first (409), not for a PBX that happens to be away (503).
            call, found, channels = await asyncio.gather(
                self._calls.get(call_id),
                self._find_unit(unit) if unit is not None else _nothing(),
                self._control.channels_of(call_id, seat), return_exceptions=True)
            if isinstance(call, BaseException):
                if isinstance(call, NotFound):
                    self._locks.pop(call_id, None)  # keep no lock for a call that never was
                raise call
            if call.ended is not None:
                raise CannotTransfer("the call has ended")
            if call.answered is None or call.seat != seat:
                raise CannotTransfer(f"call {call_id} is not a call your seat {seat} is on")
            for result in (found, channels):
                if isinstance(result, BaseException):
                    raise result
            if found is not None:
                number = found[1]
            assert number is not None
            if channels.citizen is None:
                raise CannotTransfer("the call has ended")
            if channels.operator is None:
                raise CannotTransfer(f"your phone (seat {seat}) is not on this call")
            leg = Leg(f"{LEG_ID_PREFIX}{secrets.token_hex(6)}", call_id, mode, number, unit, seat,
                      operator_on_call=mode != "blind")
            record = new_leg(leg.id, mode, number, unit,
                             unit_name=found[0]["name"] if found else None)
            self._remember(leg, record)  # before Originate: its events must find the leg
            # The unit rings first and the rooms are set while it does: the INVITE does not
            # wait for two Redirects, and the unit hears the briefing before it joins anyone.
            try:
                await self._place(leg, call, await self._kind_of(call),
                                  emergency=number if unit is None else None)
            except AmiError:
                await self._calls.leg_added(call_id, record)
                await self._change(replace(leg, phase="ended", outcome="failed"))
                raise  # nothing moved: the citizen is still talking with the operator
            await self._calls.leg_added(call_id, record)
            self._send(leg)
            try:
                await self._control.into_rooms(channels, OPERATOR_ROOM[mode])
            except AmiError as exc:
                log.error("call %s: rooms not set for leg %s: %s", call_id, leg.id, exc)
                await self._control.hang_up(leg.id)
                await self._change(replace(leg, phase="ended", outcome="failed"))
                raise
            if mode == "consult":
                self._timers[leg.id] = asyncio.get_running_loop().call_later(
                    self._hold_limit, self._later, call_id, leg.id, HoldTooLong())
            return dict(self._records[leg.id])

    async def click(self, call_id: str, seat: str | None, step: str) -> dict[str, Any]:
        """The operator's step on the call's open leg: one of CLICKS."""
        click = CLICKS[step]()
        await self._calls.get(call_id)  # 404 for an unknown call
        leg = self._open.get(call_id)
        if leg is None:
            raise CannotTransfer("this call has no transfer under way")
        if leg.seat != seat:
            raise CannotTransfer(f"this transfer was made by seat {leg.seat}, not yours")
        return await self._apply(call_id, click, refuse=True)

    # -- AMI events ---------------------------------------------------------------------------
    async def _on_ami(self, message: Message) -> None:
        uid = message.get("Uniqueid", "")
        if self._fallback.follows(uid):
            await self._fallback.on_event(uid, message)
            return
        call_id = self._call_of_leg.get(uid)
        if call_id is not None:
            happened = leg_event(message)
            if happened is not None:
                await self._apply(call_id, happened)
            elif message.get("Event") == "OriginateResponse" and message.get(
                    "Response") == "Failure":
                # The Hangup that says why usually follows within milliseconds.
                self._timers[uid] = asyncio.get_running_loop().call_later(
                    1.0, self._later, call_id, uid, UnitGone(0))
            return
        if message.get("Event") != "Hangup":
            return
        if uid in self._open:
            await self._apply(uid, CitizenGone())
            await self._fallback.drop(uid)
            self._locks.pop(uid, None)
            return
        leg = self._open.get(channel_var(message, CALL_ID))
        if leg is not None and message.get("Channel", "").startswith(f"PJSIP/{leg.seat}-"):
            await self._apply(leg.call_id, OperatorGone())

    def _later(self, call_id: str, leg_id: str, happened: Happened) -> None:
        """A timer fired (hold limit; a failure whose Hangup never came): for this leg only."""
        self._timers.pop(leg_id, None)
        leg = self._open.get(call_id)
        if leg is not None and leg.id == leg_id:
            task = asyncio.get_running_loop().create_task(self._apply(call_id, happened))
            self._later_tasks.add(task)
            task.add_done_callback(self._later_tasks.discard)

    # -- applying what happened ---------------------------------------------------------------
    async def _apply(self, call_id: str, happened: Happened, *,
                     refuse: bool = False) -> dict[str, Any]:
        async with self._lock(call_id):
            leg = self._open.get(call_id)
            if leg is None:
                if refuse:
                    raise CannotTransfer("this call has no transfer under way")
                return {}
            try:
                return await self._react(leg, happened)
            except NotNow:
                if refuse:
                    raise
                return dict(self._records[leg.id])

    async def _react(self, leg: Leg, happened: Happened) -> dict[str, Any]:
        """Under the call's lock: the leg's rules, the record, the steps. The leg's record
        after it all."""
        new, steps = react(leg, happened)
        record = await self._change(new) if new != leg else dict(self._records[leg.id])
        for step in steps:
            await self._carry_out(new, step)
        return record

    async def _change(self, leg: Leg) -> dict[str, Any]:
        """Keep, record and announce the leg's new state; returns its record."""
        before = self._open.get(leg.call_id)
        changes: dict[str, Any] = {"handed_over": leg.handed_over}
        now = utcnow().isoformat()
        if leg.phase == "answered" and (before is None or before.phase != "answered"):
            changes["answered"] = now
        if not leg.open:
            changes.update(ended=now, outcome=leg.outcome)
        record = self._records[leg.id] = {**self._records[leg.id], **changes}
        if leg.open:
            self._open[leg.call_id] = leg
        await self._calls.leg_changed(leg.call_id, leg.id, changes)
        self._send(leg)
        if not leg.open:
            self._forget(leg)
            if self.on_leg_ended is not None and leg.outcome:
                self.on_leg_ended(leg.mode, leg.outcome)
        return dict(record)

    async def _carry_out(self, leg: Leg, step: Do) -> None:
        try:
            if step.what == "hang_up":
                if step.who == "citizen":
                    await self._control.hang_up(leg.call_id)
                elif step.who == "unit":
                    await self._control.hang_up(leg.id)
                else:
                    operator = (await self._control.channels_of(leg.call_id, leg.seat)).operator
                    if operator:
                        await self._control.hang_up(operator)
            elif step.what == "unit_to_room":
                await self._control.move(leg.id, "member")
            elif step.what == "operator_to_room":
                operator = (await self._control.channels_of(leg.call_id, leg.seat)).operator
                if operator is None:
                    # their phone dropped meanwhile
                    await self._fallback.ring_back(leg.id, leg.call_id, leg.seat)
                else:
                    await self._control.move(operator, "member")
            elif step.what == "ring_back":
                await self._fallback.ring_back(leg.id, leg.call_id, leg.seat)
        except AmiError as exc:
            log.error("call %s: %s %s failed: %s", leg.call_id, step.what, step.who or "", exc)
            if step.what in ("operator_to_room", "ring_back"):
                await self._fallback.to_queue(leg.call_id)

    # -- after a reconnect -------------------------------------------------------------------
    async def resync(self) -> None:
        """Pick the transfers up again from the live channels (ivr/transfers/recovery.py)."""
        channels = await self._control.live_channels()
        by_uid = {c.get("Uniqueid", ""): c for c in channels}
        for call_id, seat, record in await self._calls.open_legs():
            # Its timers and log lines belong to the call, as when its events come.
            with call_context(call_id):
                async with self._lock(call_id):
                    leg = self._open.get(call_id)
                    found = restored_leg(call_id, seat, {**record, **self._records.get(
                        record["leg"], {})}, by_uid)
                    if leg is None or leg.id != found.leg.id:
                        leg = found.leg
                        self._remember(leg, dict(record))
                        log.info("call %s: transfer %s picked up again", call_id, leg.id)
                        if leg.mode == "consult" and not leg.handed_over:
                            held = (utcnow() - datetime.fromisoformat(record["requested"]))
                            self._timers[leg.id] = asyncio.get_running_loop().call_later(
                                max(1.0, self._hold_limit - held.total_seconds()), self._later,
                                call_id, leg.id, HoldTooLong())
                    if call_id not in by_uid:
                        await self._react(leg, CitizenGone())
                        continue
                    for happened in found.happened:
                        leg = self._open.get(call_id, leg)
                        await self._react(leg, happened)
        for channel, who in alone_in_rooms(channels, set(self._open)):
            log.warning("%s alone in a room with no transfer under way: %s", who, channel)
            if who == "citizen":
                await self._fallback.to_queue(channel)
            else:
                await self._control.hang_up(channel)  # the operator's phone, consulting nobody

    # -- helpers ------------------------------------------------------------------------------
    async def _kind_of(self, call: Any) -> str | None:
        """The request's kind for the briefing: the ticket's (the operator's word) once
        there is one, else what the citizen chose in the menu."""
        if call.ticket_id and self._ticket_kind is not None:
            return await self._ticket_kind(call.ticket_id) or call.request_kind
        return call.request_kind

    async def _place(self, leg: Leg, call: Any, kind: str | None,
                     emergency: str | None) -> None:
        headers = {"X-Hotline-Call-Id": leg.call_id}
        if call.ticket_id:
            headers["X-Hotline-Ticket"] = call.ticket_id
        prompts = briefing_prompts(call.ticket_id, kind, emergency)
        # A unit sees the hotline calling; an emergency service sees the citizen's number,
        # to call them back if the line drops (联动转接).
        caller_id = f'"{call.caller}" <{call.caller}>' if emergency and call.caller else (
            HOTLINE_CALLER_ID)
        await self._control.place(
            leg.id, leg.call_id, self._control.trunk_dial(leg.number),
            join="consult" if leg.mode == "consult" else "member",
            briefing=briefing_variable(prompts),
            ring_seconds=self._ring_seconds, caller_id=caller_id, headers=headers)

    def _remember(self, leg: Leg, record: dict[str, Any]) -> None:
        self._open[leg.call_id] = leg
        self._records[leg.id] = record
        self._call_of_leg[leg.id] = leg.call_id

    def _forget(self, leg: Leg) -> None:
        self._open.pop(leg.call_id, None)
        self._call_of_leg.pop(leg.id, None)
        self._records.pop(leg.id, None)
        timer = self._timers.pop(leg.id, None)
        if timer is not None:
            timer.cancel()

    def _lock(self, call_id: str) -> asyncio.Lock:
        return self._locks.setdefault(call_id, asyncio.Lock())

    def _send(self, leg: Leg) -> None:
        if self.publish is None:
            return
        record = self._records[leg.id]
        state = record["outcome"] if not leg.open else leg.phase
        self.publish(leg.seat, {"type": "transfer", "call_id": leg.call_id, "seat": leg.seat,
                                "state": state, "operator_on_call": leg.operator_on_call,
                                **record})

