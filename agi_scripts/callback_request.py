"""AGI route `callback_request`: a waiting citizen pressed 1 to be called back.

The callback goes to the number they call from; a caller without a usable number keys one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr.callback_requests.service import CallbackRequests
from ivr.telephony import dialplan_vars
from ivr.telephony.agi_server import AgiChannel

MIN_NUMBER = 7  # shorter is an extension or a withheld number, not one we can call back


@dataclass(frozen=True)
class CallbackServices:
    callbacks: CallbackRequests
    sounds_dir: Path


async def callback_request(channel: AgiChannel, services: CallbackServices) -> None:
    call_id = await channel.get_variable(dialplan_vars.CALL_ID) or channel.request.unique_id
    number = channel.request.caller
    if len(number) < MIN_NUMBER or not number.isdigit():
        number = await channel.get_data(str(services.sounds_dir / "callback_number_prompt"),
                                        8000, 15)
        if len(number) < MIN_NUMBER:
            return  # no route set: the dialplan puts the caller back in the queue
    await services.callbacks.register(call_id, number, "callback")
    await channel.set_variable(dialplan_vars.CALLBACK, "registered")
    await channel.stream_file(str(services.sounds_dir / "callback_registered"), escape_digits="")
