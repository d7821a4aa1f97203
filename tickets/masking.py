"""What a responsible unit may see: never a confidential caller's identity (兰溪; 蒙城 23.6)."""

from __future__ import annotations

from typing import Any

MASK = "***"
IDENTITY_FIELDS = ("name", "phone", "address")


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else MASK


def for_unit(ticket: dict[str, Any]) -> dict[str, Any]:
    """The ticket as a unit sees it: identity removed when the caller asked for it."""
    if not ticket.get("confidential"):
        return ticket
    masked = dict(ticket)
    masked["name"] = MASK
    masked["phone"] = MASK
    masked["address"] = MASK
    masked["call_ids"] = []
    masked["transcript"] = None  # the caller's own words may name them
    return masked
