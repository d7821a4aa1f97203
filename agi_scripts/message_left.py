"""AGI route `message_left`: a caller recorded a voice message (or hung up while recording).

Runs after Record() and again from the h extension if the caller hangs up; registering is
idempotent, so the message becomes exactly one task.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from ivr.callback_requests.service import CallbackRequests
from ivr.telephony import dialplan_vars
from ivr.telephony.agi_server import AgiChannel


@dataclass(frozen=True)
class MessageServices:
    callbacks: CallbackRequests


async def message_left(channel: AgiChannel, services: MessageServices) -> None:
    call_id = await channel.get_variable(dialplan_vars.CALL_ID) or channel.request.unique_id
    recording = await channel.get_variable(dialplan_vars.MESSAGE_FILE)
    exists = bool(recording) and await asyncio.to_thread(Path(recording or "").is_file)
    await services.callbacks.register(call_id, channel.request.caller, "message",
                                      recording if exists else None)
