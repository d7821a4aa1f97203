"""The AMI steps of a transfer, and nothing else: where a call's channels are, moving them
between the rooms of extensions_transfer.conf, placing a leg, hanging one up.

AMI rather than ARI: the call is already in the hands of the AMI client (queue, tracking,
restarts), a channel in a Queue() bridge can only be taken into ARI's Stasis by an AMI
Redirect anyway, and ConfBridge rooms give blind, consult and three-way calls with the
three primitives below. Redirect moves both channels of a bridge at once (ExtraChannel): a
Redirect of one leg alone would hang up the other.

Channels are named by their unique id where we chose it (the citizen's is the call id; a
leg's is the leg id, set by Originate's ChannelId): Asterisk finds a channel by name or
unique id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ivr.errors import AmiActionFailed
from ivr.telephony.ami_client import AmiClient, Message
from ivr.telephony.dialplan_vars import CALL_ID, LEG

log = logging.getLogger(__name__)

CONTEXT = "hotline-transfer"
QUEUE_CONTEXT = "hotline-queue"


@dataclass(frozen=True)
class CallChannels:
    citizen: str | None  # the citizen's channel name, None once they hung up
    citizen_in_room: bool  # already in the call's room (a transfer before this one)
    operator: str | None  # the operator's channel on this call, if any


class TransferControl:
    def __init__(self, ami: AmiClient, trunk_endpoint: str = "trunk") -> None:
        self._ami = ami
        self._trunk = trunk_endpoint

    async def live_channels(self) -> list[Message]:
        """Every live channel (after a reconnect, to pick transfers up again)."""
        return await self._ami.list_action("CoreShowChannels", timeout=10)

    async def channels_of(self, call_id: str, seat: str) -> CallChannels:
        """Where the call's citizen and the seat's phone are now (read from Asterisk, not
        remembered: true after any restart). Asks about this call only — the citizen's
        channel, then whoever shares its bridge or rooms — so it costs the same with five
        calls in the PBX or five hundred (a full channel listing grew with every call)."""
        try:
            status = await self._ami.list_action("Status", timeout=5, Channel=call_id)
        except AmiActionFailed:
            return CallChannels(None, False, None)  # "No such channel": the citizen is gone
        citizen = next((m for m in status if m.get("Event") == "Status"), None)
        if citizen is None:
            return CallChannels(None, False, None)
        in_room = (citizen.get("Application") == "ConfBridge"
                   and citizen.get("Data", "").startswith(f"hotline-{call_id}"))
        if in_room:
            members = [*await self._room(f"hotline-{call_id}"),
                       *await self._room(f"consult-{call_id}")]
        elif citizen.get("BridgeID"):
            members = [m.get("Channel", "") for m in await self._ami.list_action(
                "BridgeInfo", timeout=5, BridgeUniqueid=citizen["BridgeID"])
                if m.get("Event") == "BridgeInfoChannel"]
        else:
            members = []
        operator = next((name for name in members if name.startswith(f"PJSIP/{seat}-")), None)
        return CallChannels(citizen.get("Channel"), in_room, operator)

    async def _room(self, conference: str) -> list[str]:
        try:
            listed = await self._ami.list_action("ConfbridgeList", timeout=5,
                                                 Conference=conference)
        except AmiActionFailed:
            return []  # no such room (nobody in it)
        return [m.get("Channel", "") for m in listed if m.get("Event") == "ConfbridgeList"]

    async def into_rooms(self, channels: CallChannels, operator_to: str) -> None:
        """The citizen into the call's room (unless there already), the operator's phone to
        `operator_to`: "member" (the room), "consult" (the consult room) or "free" (let go)."""
        assert channels.citizen is not None
        if channels.citizen_in_room:
            if channels.operator:
                await self.move(channels.operator, operator_to)
            return
        if channels.operator is None:
            await self.move(channels.citizen, "room")
            return
        await self._ami.action("Redirect", timeout=5, Channel=channels.citizen,
                               Context=CONTEXT, Exten="room", Priority="1",
                               ExtraChannel=channels.operator, ExtraContext=CONTEXT,
                               ExtraExten=operator_to, ExtraPriority="1")

    async def move(self, channel: str, exten: str) -> None:
        await self._ami.action("Redirect", timeout=5, Channel=channel, Context=CONTEXT,
                               Exten=exten, Priority="1")

    async def to_queue(self, channel: str) -> None:
        """The citizen back to the operators' queue: the last resort, never a hang-up."""
        await self._ami.action("Redirect", timeout=5, Channel=channel, Context=QUEUE_CONTEXT,
                               Exten="s", Priority="1")

    async def place(self, leg_id: str, call_id: str, dial: str, *, join: str, briefing: str,
                    ring_seconds: int, caller_id: str,
                    headers: dict[str, str] | None = None) -> None:
        """Ring `dial` (e.g. PJSIP/2001@trunk) as channel `leg_id`; answered, it hears the
        briefing and joins `join` ("member": the call's room, "consult"). Returns once
        Asterisk queued the call: ringing, answer and failure arrive as events."""
        variables = [f"{CALL_ID}={call_id}", f"{LEG}={leg_id}",
                     f"HOTLINE_JOIN={join}", f"HOTLINE_BRIEFING={briefing}"]
        variables += [f"PJSIP_HEADER(add,{name})={value}"
                      for name, value in (headers or {}).items()]
        await self._ami.action(
            "Originate", timeout=5, Channel=dial, ChannelId=leg_id,
            Context=CONTEXT, Exten="answered", Priority="1", Timeout=str(ring_seconds * 1000),
            CallerID=caller_id, Async="true", Variable=variables)

    def trunk_dial(self, number: str) -> str:
        return f"PJSIP/{number}@{self._trunk}"

    async def hang_up(self, channel: str) -> None:
        """Hang up a channel; one already gone is not an error (it is what we wanted)."""
        try:
            await self._ami.action("Hangup", timeout=5, Channel=channel, Cause="16")
        except AmiActionFailed as exc:
            log.debug("hang-up of %s: %s", channel, exc)
