"""The briefing (转接提示): what the unit hears when it picks up, before it is connected, so
the call's context travels with it — "12345热线转来，工单号…，诉求类型…，正在为您接通。"

Made of prompts rendered at start like every other (ivr/menu/prompt_catalog.toml, briefing_*
and digit_*), played in a row: nothing is synthesised while the unit's phone rings, so the
briefing is ready however fast the unit answers, and placing the call waits for nothing.
"""

from __future__ import annotations

KINDS = ("consultation", "help", "complaint", "report", "suggestion", "praise")
EMERGENCY_NUMBERS = ("110", "119", "120", "122")


def briefing_prompts(ticket_id: str | None, kind: str | None,
                    emergency: str | None = None) -> list[str]:
    """The prompt ids, in order, from what is known of the call now. Kept short (each
    digit is half a second): an emergency service gets the citizen's number as the caller
    id instead of hearing it read out."""
    ids = ["briefing_intro"]
    if emergency in EMERGENCY_NUMBERS:
        ids.append(f"briefing_emergency_{emergency}")
    else:
        ids.append("briefing_citizen")
    if ticket_id:
        ids += ["briefing_ticket", *_digits(ticket_id)]
    if kind in KINDS:
        ids.append(f"briefing_kind_{kind}")
    ids.append("briefing_connecting")
    return ids


def briefing_variable(prompt_ids: list[str]) -> str:
    """HOTLINE_BRIEFING: the prompt ids joined by &. The dialplan puts the sounds directory
    before each (extensions_transfer.conf): full paths would make the Originate's variable
    line longer than AMI reads (1,024 bytes) once a ticket number is read out."""
    return "&".join(prompt_ids)


def _digits(number: str) -> list[str]:
    return [f"digit_{c}" for c in number if c.isdigit()]
