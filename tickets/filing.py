"""A filing request: what an operator (or the web form) sends to open a ticket, validated
field by field so a bad request names the field at fault."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from tickets.codes import CHANNELS, KINDS, NOT_ACCEPTED_REASONS, URGENCIES
from tickets.errors import InvalidField

MAX_CONTENT = 5000


@dataclass(frozen=True)
class NewTicket:
    phone: str
    kind: str
    content: str
    name: str | None = None
    address: str | None = None
    confidential: bool = False
    call_id: str | None = None
    channel: str = "phone"
    category: str | None = None
    location: str | None = None
    urgency: str = "normal"
    not_accepted_reason: str | None = None
    referral: str | None = None
    media_exposure: bool = False
    transcript: str | None = None


def _string(body: dict[str, Any], name: str, max_length: int, *, required: bool = False,
            choices: dict[str, str] | None = None) -> str | None:
    value = body.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise InvalidField(name, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidField(name, f"{name} is required")
    if len(value) > max_length:
        raise InvalidField(name, f"{name} is longer than {max_length} characters")
    if choices is not None and value not in choices:
        raise InvalidField(name, f"{name} must be one of {', '.join(choices)}")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidField(name, f"{name} must be true or false")
    return value


NEW_TICKET_FIELDS = tuple(f.name for f in fields(NewTicket))


def parse_new_ticket(body: dict[str, Any]) -> NewTicket:
    """Validate a filing request; raises InvalidField naming the first bad field."""
    unknown = sorted(set(body).difference(NEW_TICKET_FIELDS))
    if unknown:
        raise InvalidField(unknown[0], f"unknown field {unknown[0]!r}")
    phone = _string(body, "phone", 20, required=True)
    assert phone is not None
    if not phone.lstrip("+").replace("-", "").isdigit() or len(phone) < 3:
        raise InvalidField("phone", "phone must be a telephone number (digits)")
    kind = _string(body, "kind", 16, required=True, choices=KINDS)
    content = _string(body, "content", MAX_CONTENT, required=True)
    return NewTicket(
        phone=phone, kind=kind or "", content=content or "",
        name=_string(body, "name", 64), address=_string(body, "address", 200),
        confidential=_flag(body, "confidential"), call_id=_string(body, "call_id", 64),
        channel=_string(body, "channel", 32, choices=CHANNELS) or "phone",
        category=_string(body, "category", 64), location=_string(body, "location", 200),
        urgency=_string(body, "urgency", 16, choices=URGENCIES) or "normal",
        not_accepted_reason=_string(body, "not_accepted_reason", 64,
                                    choices=NOT_ACCEPTED_REASONS),
        referral=_string(body, "referral", 200), media_exposure=_flag(body, "media_exposure"),
        transcript=_string(body, "transcript", 50000),
    )
