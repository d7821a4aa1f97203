"""Turns the AMI event stream into call-record updates, in order, and resynchronises after
every (re)connect: calls that ended while we were not listening are closed, calls that
began are opened. The only module that knows which AMI events mean what for a call."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from ivr.calls.call_log import CallLog, new_leg
from ivr.calls.facts import (
    CallAbandoned,
    CallArrived,
    CallEnded,
    CallQueued,
    EmergencyDialled,
    Fact,
    FactHandler,
    SeatAnswered,
    SeatMissed,
    SeatRang,
    describe,
)
from ivr.log_format import call_context
from ivr.telephony.ami_client import AmiClient, Message
from ivr.telephony.ami_events import OrderedEvents, channel_var
from ivr.telephony.dialplan_vars import LEG_ID_PREFIX, ROUTE
from store.db import utcnow

log = logging.getLogger(__name__)

INBOUND_CONTEXT = "hotline-inbound"
EMERGENCY_CONTEXT = "hotline-emergency"
TRACKED = {"Newchannel", "QueueCallerJoin", "QueueCallerAbandon", "AgentCalled",
           "AgentConnect", "AgentRingNoAnswer", "DialBegin", "DialEnd", "Hangup"}


def seat_of(member: str) -> str:
    """'PJSIP/1001' or 'Seat 1001' → '1001'."""
    return member.rsplit("/", 1)[-1].split()[-1] if member else ""


def dialled_number(dial_string: str) -> str:
    """'110@trunk' → '110'."""
    return dial_string.split("@", 1)[0].rsplit("/", 1)[-1]


class CallTracker:
    def __init__(self, call_log: CallLog, ami: AmiClient) -> None:
        self._log = call_log
        self._ami = ami
        # The work happens in order, off the AMI reader.
        self._events = OrderedEvents(TRACKED, self.apply, "call-tracker")
        self.on_event = self._events.on_event  # called by the AMI reader for every event
        self.resyncs = 0
        self.subscribers: list[FactHandler] = []  # screen pops, supervisor view

    async def start(self) -> None:
        await self._events.start()

    async def stop(self) -> None:
        await self._events.stop()

    async def idle(self) -> None:
        """Wait until every event received so far has been applied."""
        await self._events.idle()

    async def _publish(self, fact: Fact) -> None:
        # One line per call event; the event worker has set whose call it is. (Asked
        # first: the AMI benchmark feeds 20,000 events a second with INFO off.)
        if log.isEnabledFor(logging.INFO):
            log.info("%s", describe(fact), extra={"event": type(fact).__name__})
        for handler in self.subscribers:
            try:
                await handler(fact)
            except Exception:
                log.exception("subscriber failed on %s", type(fact).__name__)

    async def apply(self, event: Message) -> None:
        name = event.get("Event")
        call_id = event.get("Linkedid", "")
        is_citizen_leg = event.get("Uniqueid") == call_id
        member = seat_of(event.get("MemberName") or event.get("Interface", ""))
        if name == "AgentCalled":
            await self._publish(SeatRang(call_id, member, event.get("CallerIDNum", ""),
                                         event.get("Queue", "")))
        elif name == "AgentRingNoAnswer":
            await self._publish(SeatMissed(call_id, member))
        elif name == "Newchannel":
            if is_citizen_leg and event.get("Context") == INBOUND_CONTEXT:
                await self._log.call_arrived(call_id, event.get("CallerIDNum", ""))
                await self._publish(CallArrived(call_id, event.get("CallerIDNum", "")))
        elif name == "QueueCallerJoin":
            await self._log.queued(call_id, event.get("Queue", ""))
            await self._publish(CallQueued(call_id, event.get("Queue", ""),
                                           channel_var(event, ROUTE)))
        elif name == "QueueCallerAbandon":
            await self._publish(CallAbandoned(call_id, event.get("Queue", ""),
                                              float(event.get("HoldTime") or 0)))
        elif name == "AgentConnect":
            wait = float(event.get("HoldTime") or 0)
            await self._log.answered(call_id, member, wait)
            await self._publish(SeatAnswered(call_id, member, wait))
        elif name == "DialBegin" and event.get("Context") == EMERGENCY_CONTEXT:
            # The menu's key 8: the dialplan dials the emergency service itself.
            await self._log.leg_added(call_id, new_leg(
                event.get("DestUniqueid", ""), "blind",
                dialled_number(event.get("DialString", ""))))
        elif name == "DialEnd" and event.get("Context") == EMERGENCY_CONTEXT:
            result = dial_result(event.get("DialStatus", ""))
            await self._log.leg_changed(call_id, event.get("DestUniqueid", ""), result)
            await self._publish(EmergencyDialled(call_id, result["outcome"]))
        elif name == "Hangup" and is_citizen_leg:
            await self._log.ended(call_id, event.get("Cause-txt") or event.get("Cause"))
            await self._publish(CallEnded(call_id))

    async def resync(self) -> None:
        """Re-read the live channels after a (re)connect instead of trusting old events."""
        # The open records first: a call that arrives after this read (its Newchannel
        # applied while the channel list is on its way) is not taken for one that ended.
        open_ids = await self._log.open_call_ids()
        channels = await self._ami.list_action("CoreShowChannels", timeout=10)
        live = {c.get("Linkedid", "") for c in channels}
        for call_id in open_ids:
            if call_id not in live:
                with call_context(call_id):
                    log.info("call %s ended while AMI was away", call_id)
                    await self._log.ended(call_id, "ended while the service was not listening")
        for channel in channels:
            call_id = channel.get("Linkedid", "")
            if (channel.get("Uniqueid") == call_id
                    and channel.get("Context", "").startswith("hotline-")
                    and not call_id.startswith(LEG_ID_PREFIX)):
                seconds = _duration_seconds(channel.get("Duration", ""))
                await self._log.call_arrived(call_id, channel.get("CallerIDNum", ""),
                                             utcnow() - timedelta(seconds=seconds))
                if channel.get("Application") == "Queue":
                    # It reached the queue while we were away (the dialplan's fallback when
                    # the service died mid-menu): the answer will need to know it waited.
                    queue = channel.get("ApplicationData", "").split(",", 1)[0]
                    await self._log.found_queued(call_id, queue, utcnow())
        self.resyncs += 1
        log.info("resynchronised with %d live channels", len(channels))


DIAL_OUTCOMES = {"ANSWER": "answered", "BUSY": "busy", "NOANSWER": "no_answer",
                 "CANCEL": "cancelled"}


def dial_result(status: str) -> dict[str, Any]:
    """A Dial()'s DIALSTATUS as the changes to its transfer leg."""
    now = utcnow().isoformat()
    if status == "ANSWER":
        return {"answered": now, "outcome": "answered", "handed_over": True}
    return {"ended": now, "outcome": DIAL_OUTCOMES.get(status, "failed")}


def _duration_seconds(duration: str) -> int:
    """'01:02:03' → 3723; anything unreadable counts as 0."""
    try:
        hours, minutes, seconds = (int(p) for p in duration.split(":"))
    except ValueError:
        return 0
    return hours * 3600 + minutes * 60 + seconds
