"""When a unit does not take the caller: the same operator's phone rings again and has the
caller back (they hear why); if that operator does not answer either, the caller goes to
the queue. Never a hang-up: Wazo's calld hangs the caller up when a blind transfer's
recipient does not answer, which is what this is here to avoid."""

from __future__ import annotations

import logging

from ivr.errors import AmiError
from ivr.telephony.ami_client import Message
from ivr.transfers.briefing import briefing_variable
from ivr.transfers.control import TransferControl

log = logging.getLogger(__name__)

HOTLINE_CALLER_ID = '"12345" <12345>'


class Fallback:
    def __init__(self, control: TransferControl, ring_back_seconds: int = 20) -> None:
        self._control = control
        self._ring_seconds = ring_back_seconds
        self._ringing: dict[str, str] = {}  # ring-back channel id → call id

    def follows(self, uid: str) -> bool:
        return uid in self._ringing

    async def ring_back(self, leg_id: str, call_id: str, seat: str) -> None:
        """Ring the operator's seat into the call's room; the queue if it cannot ring."""
        back_id = f"{leg_id}-back"
        self._ringing[back_id] = call_id
        try:
            await self._control.place(
                back_id, call_id, f"PJSIP/{seat}", join="member",
                briefing=briefing_variable(["transfer_returned"]),
                ring_seconds=self._ring_seconds, caller_id=HOTLINE_CALLER_ID)
        except AmiError as exc:
            log.warning("call %s: seat %s not rung back (%s): to the queue", call_id, seat, exc)
            self._ringing.pop(back_id, None)
            await self.to_queue(call_id)

    async def on_event(self, back_id: str, message: Message) -> None:
        """An AMI event on a ring-back channel: answered, or given up (to the queue)."""
        event = message.get("Event")
        if event == "Newstate" and message.get("ChannelStateDesc") == "Up":
            self._ringing.pop(back_id, None)  # the operator has the caller again
        elif event == "Hangup" or (event == "OriginateResponse"
                                   and message.get("Response") == "Failure"):
            call_id = self._ringing.pop(back_id)
            log.info("call %s: the operator did not take the caller back: to the queue",
                     call_id)
            await self.to_queue(call_id)

    async def drop(self, call_id: str) -> None:
        """The caller hung up: stop ringing their operator."""
        for back_id, of_call in list(self._ringing.items()):
            if of_call == call_id:
                del self._ringing[back_id]
                await self._control.hang_up(back_id)

    async def to_queue(self, channel: str) -> None:
        """The caller (their channel or call id) back to the operators' queue."""
        try:
            await self._control.to_queue(channel)
        except AmiError as exc:
            log.error("%s could not be returned to the queue: %s", channel, exc)
