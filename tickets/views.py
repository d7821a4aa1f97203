"""A ticket as the API shows it: dates as ISO text, labels, and the flags of the day."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from tickets.codes import KINDS, STATUSES

# Statuses in which the unit still owes work: a passed deadline makes them overdue.
OWED = frozenset({"dispatched", "processing"})


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_view(t: Mapping[str, Any], today: date) -> dict[str, Any]:
    overdue = t["status"] in OWED and t["deadline"] is not None and today > t["deadline"]
    view = {c: t[c] for c in (
        "id", "channel", "kind", "name", "phone", "address", "confidential", "content",
        "category", "location", "urgency", "times_by_citizen", "citizens_on_matter",
        "approval_level", "disposal_mode", "status", "lead_unit", "co_units",
        "not_accepted_reason", "referral", "requirements", "operator", "seat", "call_ids",
        "transcript", "media_exposure", "signed_late", "first_contact_late", "reply",
        "responder", "responder_phone", "reply_approved_by", "satisfaction", "result_true",
        "close_mode", "archive_category", "return_count", "redo_count")}
    for c in ("created_at", "updated_at", "dispatched_on", "dispatched_at", "sign_deadline",
              "return_deadline", "deadline", "signed_at", "first_contact_at", "replied_at",
              "callback_at", "closed_at", "archived_at"):
        view[c] = _iso(t[c])
    view["overdue"] = overdue
    view["flags"] = [*t["flags"], "overdue"] if overdue else list(t["flags"])
    view["supervised"] = bool(view["flags"])
    view["kind_label"] = KINDS.get(t["kind"], t["kind"])
    view["status_label"] = STATUSES.get(t["status"], t["status"])
    return view
