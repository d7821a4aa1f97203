"""The models of the ticket routes (tickets/http.py): their query parameters, bodies and
answers, declared once for parsing and for the OpenAPI document.

Filing and lifecycle bodies only document: tickets/filing.py and tickets/lifecycle.py
check those fields themselves (their rules and messages live there alone), so these
models name the fields, their types and choices, and no limit of their own."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from http_kit.requests import Body, Instant, Paging, Query
from tickets.codes import (
    CHANNELS,
    CLOSE_MODES,
    DISPOSAL_MODES,
    KINDS,
    NOT_ACCEPTED_REASONS,
    SATISFACTION,
    URGENCIES,
)
from tickets.filing import MAX_CONTENT


def _one_of(choices: dict[str, str], description: str = "") -> Any:
    return Field(None, description=description or None,
                 json_schema_extra={"enum": list(choices)})


class Ticket(BaseModel):
    """A ticket (工单) as answered (tickets/views.py); more fields than named here."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern="^[0-9]+$", description="its number: local date + sequence")
    status: str
    kind: str
    deadline: str | None
    overdue: bool
    flags: list[str] = Field(description="supervision flags (督办)")
    call_ids: list[str]


class NewTicket(BaseModel):
    """A filing (POST /api/tickets); validated by tickets/filing.py parse_new_ticket."""

    model_config = ConfigDict(extra="forbid")

    phone: str
    kind: str = Field(json_schema_extra={"enum": list(KINDS)})
    content: str = Field(max_length=MAX_CONTENT)
    name: str | None = None
    address: str | None = None
    confidential: bool = False
    call_id: str | None = Field(None, description="the call this filing comes from")
    channel: str | None = _one_of(CHANNELS)
    category: str | None = None
    location: str | None = None
    urgency: str | None = _one_of(URGENCIES)
    not_accepted_reason: str | None = _one_of(NOT_ACCEPTED_REASONS, "不予受理: why")
    referral: str | None = Field(None, description="the right unit and number")
    media_exposure: bool = False
    transcript: str | None = None


# The lifecycle steps' fields (tickets/lifecycle.py checks them): one model per action.
class Dispatch(BaseModel):
    unit: str = Field(description="the lead unit's code")
    co_units: list[str] = []
    requirements: str | None = None


class NoFields(BaseModel):
    """sign: the unit takes the ticket on; nothing to say."""


class Contact(BaseModel):
    note: str


class Return(BaseModel):
    reason: str
    legal_basis: str
    suggested_unit: str | None = None


class Extend(BaseModel):
    reason: str
    new_deadline: dt.date
    head_signed: bool = Field(False, description="beyond 10 working days: the head signed")


class Reply(BaseModel):
    content: str
    responder: str
    responder_phone: str
    approved_by: str


class FollowUp(BaseModel):
    satisfaction: str = Field(json_schema_extra={"enum": list(SATISFACTION)})
    result_true: bool = True
    note: str | None = None


class Redo(BaseModel):
    reason: str


class Close(BaseModel):
    mode: str = Field("resolved", json_schema_extra={"enum": list(CLOSE_MODES)})
    note: str | None = Field(None, description="required unless mode is resolved")
    disposal_mode: str | None = _one_of(DISPOSAL_MODES, "how a direct close was handled")


class Terminate(BaseModel):
    reason: str | None = Field(None, description="an operator's request")
    approve: bool | None = Field(None, description="a supervisor's decision on a request")
    note: str | None = None


class Archive(BaseModel):
    category: str | None = None


ACTION_BODIES: dict[str, type[BaseModel]] = {
    "dispatch": Dispatch, "sign": NoFields, "contact": Contact, "return": Return,
    "extend": Extend, "reply": Reply, "callback": FollowUp, "redo": Redo, "close": Close,
    "terminate": Terminate, "archive": Archive}


class TicketPath(BaseModel):
    ticket_id: str


class TicketQuery(Query):
    phone: str | None = None
    status: str | None = None
    unit: str | None = Field(None, description="lead or co-handling unit's code")
    kind: str | None = None
    overdue: bool | None = None
    supervised: bool | None = Field(None, description="has a supervision flag")
    since: Instant | None = Field(None, description="filed at or after")
    until: Instant | None = Field(None, description="filed before")


class TicketPage(TicketQuery, Paging):
    pass


class Export(TicketQuery):
    format: Literal["csv", "json"] = "csv"


class NewUnit(Body):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=128)
    phone: str = Field(min_length=1, max_length=32)
    duty_phone: str | None = Field(None, max_length=32)
    hours: str | None = Field(None, max_length=200, description=(
        "when the day number is staffed on working days, e.g. 08:30-12:00,14:00-17:30; "
        "unset: always"))


class UnitQuery(Query):
    q: str | None = Field(None, max_length=64, description=(
        "part of the name, the start of the code, or the pinyin initials (e.g. zjj)"))


class OutboxQuery(Paging):
    state: Literal["dead", "pending", "delivered", "all"] = "dead"


class MessagePath(BaseModel):
    # The database's integer is 64 bits: a larger number is no message, and SQLite
    # cannot even compare it.
    message_id: int = Field(ge=1, le=2**63 - 1)


class Span(Query):
    since: Instant
    until: Instant


class ReportQuery(Query):
    date: dt.date | None = Field(None, description="a day in the period; today if absent")
    format: Literal["html", "csv", "json"] = "html"
