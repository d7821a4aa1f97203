"""AGI route `main_menu`: plays the hotline's voice menu and tells the dialplan where to go.

The call flow itself lives in ivr.menu.flow (pure); this module only executes its steps over
the AGI channel and keeps the call record up to date. A failing database never stops the
menu: the record is best effort here, the caller's experience is not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from ivr.calls.call_log import CallLog
from ivr.menu.flow import TO_OPERATOR, Ask, Finish, LookupTicket, MainMenu, TicketStatus
from ivr.menu.tree import MenuTree
from ivr.telephony import dialplan_vars
from ivr.telephony.agi_server import AgiChannel

log = logging.getLogger(__name__)

RECORD_TIMEOUT = 2.0
LOOKUP_TIMEOUT = 3.0

TicketStatusLookup = Callable[[str], Awaitable[TicketStatus | None]]
# A unit's code → the number to phone it on now (None: it has none staffed now)
UnitNumber = Callable[[str], Awaitable[str | None]]
# (call id, since: monotonic, wait: seconds) → the menu phrase said since then, if any
HearPhrase = Callable[[str, float, float], Awaitable[str | None]]


async def no_tickets_yet(number: str) -> TicketStatus | None:
    return None


async def no_units(code: str) -> str | None:
    return None


@dataclass(frozen=True)
class MainMenuServices:
    call_log: CallLog
    sounds_dir: Path
    # The menu live now (ivr/conf/live.py): each call keeps the one it started with.
    tree: Callable[[], MenuTree]
    ticket_status: TicketStatusLookup = no_tickets_yet
    unit_number: UnitNumber = no_units
    # Spoken choices (speech on): the menu phrase the citizen said, if any.
    hear: HearPhrase | None = None


async def main_menu(channel: AgiChannel, services: MainMenuServices) -> None:
    call_id, caller = channel.request.unique_id, channel.request.caller
    menu = MainMenu(services.tree())
    try:
        step = menu.start()
        while not isinstance(step, Finish):
            if isinstance(step, Ask):
                keys, said = await _ask(channel, step, services, call_id)
                step = (menu.on_said(menu.key_said(said)) if said is not None
                        else menu.on_keys(keys))
            else:
                step = await _look_up(menu, step, services.ticket_status)
    except BaseException:
        # Hung up or cut off mid-menu: keep the choices made so far. (One write when the
        # caller leaves the menu, not one per key: the IVR's cost is mostly these writes.)
        await _record(services.call_log.menu_left(call_id, caller, menu.path))
        raise

    unit_number = None
    if step.route == "unit" and step.unit:
        unit_number = await _unit_number(services, step.unit)
        if unit_number is None:  # no number staffed now, or no lookup: an operator
            step = Finish("queue", TO_OPERATOR, queue=menu.tree.operator)
    await _record(services.call_log.menu_left(call_id, caller, menu.path, step.route,
                                              step.request_kind))
    # The route is set before the goodbye prompt: whatever happens next, the dialplan knows.
    await channel.set_variable(dialplan_vars.IVR_PATH, ",".join(menu.path))
    if step.request_kind:
        await channel.set_variable(dialplan_vars.REQUEST_KIND, step.request_kind)
    if step.emergency_number:
        await channel.set_variable(dialplan_vars.EMERGENCY_NUMBER, step.emergency_number)
    if unit_number:
        await channel.set_variable(dialplan_vars.UNIT_NUMBER, unit_number)
    await channel.set_variable(dialplan_vars.ROUTE, step.route)
    for prompt in step.prompts:
        await channel.stream_file(str(services.sounds_dir / prompt), escape_digits="")


async def _ask(channel: AgiChannel, step: Ask, services: MainMenuServices,
               call_id: str) -> tuple[str, str | None]:
    """Play the prompts, any key interrupting; then collect the rest of the keys. (keys,
    None), or ("", a phrase) when the citizen said a choice instead: heard between two
    prompts, or once the last one has waited for keys in vain. The keypad wins: only a
    prompt that got no key listens to speech. (An AGI command cannot be cut short, so a
    phrase said during a prompt is acted on when that prompt ends.)"""
    asked = time.monotonic()
    listening = step.spoken and services.hear is not None
    *leading, last = step.prompts
    for prompt in leading:
        key = await channel.stream_file(str(services.sounds_dir / prompt))
        if key:
            return await _collect_more(channel, key, step), None
        if listening and (said := await _said(services, call_id, asked, wait=0.0)):
            return "", said
    keys = await channel.get_data(str(services.sounds_dir / last), step.timeout_ms,
                                  step.max_digits)
    if keys or not listening:
        return keys, None
    return "", await _said(services, call_id, asked)


async def _collect_more(channel: AgiChannel, keys: str, step: Ask) -> str:
    while len(keys) < step.max_digits and not keys.endswith("#"):
        key = await channel.wait_for_digit(step.timeout_ms)
        if not key:
            break
        keys += key
    return keys.rstrip("#") if step.max_digits > 1 else keys


async def _said(services: MainMenuServices, call_id: str, since: float,
                wait: float = 2.0) -> str | None:
    """What the citizen said since `since`, waiting up to `wait` for an utterance under
    way; a failing recognizer is silence, never a dropped caller."""
    if services.hear is None:
        return None
    try:
        return await asyncio.wait_for(services.hear(call_id, since, wait), LOOKUP_TIMEOUT)
    except Exception:
        log.exception("spoken choice of %s not heard", call_id)
        return None


async def _unit_number(services: MainMenuServices, code: str) -> str | None:
    try:
        return await asyncio.wait_for(services.unit_number(code), LOOKUP_TIMEOUT)
    except Exception:
        log.exception("unit %s: no number to call; the caller goes to an operator", code)
        return None


async def _look_up(menu: MainMenu, step: LookupTicket, lookup: TicketStatusLookup):
    try:
        status = await asyncio.wait_for(lookup(step.number), LOOKUP_TIMEOUT)
    except Exception:
        log.exception("ticket lookup for %s failed", step.number)
        return menu.on_ticket_status(None, failed=True)
    return menu.on_ticket_status(status)


async def _record(write: Awaitable[None]) -> None:
    try:
        await asyncio.wait_for(write, RECORD_TIMEOUT)
    except Exception:
        log.exception("call record update failed; the caller carries on")
