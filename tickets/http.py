"""HTTP routes of the ticket slice: filing, lifecycle steps, search and export, units, the
outbox's dead letters, and reports. Handlers validate, call one service, shape the answer.

The only module of tickets/ that knows aiohttp; it knows nothing of telephony: the call a
filing names is looked up through the CallRecords the composition root passes in."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web

from http_kit.errors import RequestInvalid
from http_kit.principal import PRINCIPAL, require_role
from http_kit.requests import (
    bool_param,
    datetime_param,
    json_object,
    optional_json_object,
    paging,
    string_field,
)
from http_kit.responses import items, json_response
from store.db import Database
from tickets.errors import InvalidField, NoSuchItem
from tickets.filing import parse_new_ticket
from tickets.lifecycle import ACTIONS, Actor
from tickets.measures import measure, report, report_csv, report_html
from tickets.outbox import OutboxAdmin
from tickets.service import TicketFilters, TicketService


class RecordedCall(Protocol):
    id: str
    transcript: Any


class CallRecords(Protocol):
    """The call records a filing with `call_id` is linked to (ivr/calls/call_log.py)."""

    async def find(self, call_id: str) -> RecordedCall | None: ...

    async def link_ticket(self, call_id: str, ticket_id: str) -> None: ...


class TicketRoutes:
    """What the ticket routes work with."""

    def __init__(self, tickets: TicketService, outbox: OutboxAdmin, db: Database,
                 calls: CallRecords) -> None:
        self.tickets, self.outbox, self.db, self.calls = tickets, outbox, db, calls


TICKETS = web.AppKey("tickets", TicketRoutes)
EXPORT_LIMIT = 10000
EXPORT_COLUMNS = ("id", "created_at", "channel", "kind", "name", "phone", "address",
                  "confidential", "category", "location", "content", "status", "lead_unit",
                  "co_units", "deadline", "overdue", "flags", "times_by_citizen",
                  "approval_level", "satisfaction", "closed_at")


def _actor(request: web.Request) -> Actor:
    p = request[PRINCIPAL]
    return Actor(p.name, p.role, p.unit)


def _filters(request: web.Request) -> TicketFilters:
    q = request.query
    return TicketFilters(
        phone=q.get("phone") or None, status=q.get("status") or None,
        unit=q.get("unit") or None, kind=q.get("kind") or None,
        overdue=bool_param(request, "overdue"), supervised=bool_param(request, "supervised"),
        since=datetime_param(request, "since"), until=datetime_param(request, "until"))


async def create_ticket(request: web.Request) -> web.Response:
    principal = require_role(request, "operator", "supervisor", "admin")
    services = request.app[TICKETS]
    new = parse_new_ticket(await json_object(request))
    call = None
    if new.call_id:
        call = await services.calls.find(new.call_id)
        if call is None:
            raise InvalidField("call_id", f"no call {new.call_id}")
        if not new.transcript and call.transcript:  # the live transcript comes along
            new = replace(new, transcript=call.transcript)
    ticket = await services.tickets.create(new, _actor(request), seat=principal.seat)
    if call is not None:
        await services.calls.link_ticket(call.id, ticket["id"])
    return json_response(ticket, status=201)


async def list_tickets(request: web.Request) -> web.Response:
    limit, offset = paging(request)
    found, total = await request.app[TICKETS].tickets.search(
        _actor(request), _filters(request), limit=limit, offset=offset)
    return items(found, total)


async def export_tickets(request: web.Request) -> web.StreamResponse:
    fmt = request.query.get("format", "csv")
    if fmt not in ("csv", "json"):
        raise RequestInvalid("format", "format must be csv or json")
    found, total = await request.app[TICKETS].tickets.search(
        _actor(request), _filters(request), limit=EXPORT_LIMIT, offset=0)
    if fmt == "json":
        return items(found, total)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for item in found:
        writer.writerow([json.dumps(item[c], ensure_ascii=False)
                         if isinstance(item[c], list) else item[c] for c in EXPORT_COLUMNS])
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'})


async def get_ticket(request: web.Request) -> web.Response:
    ticket = await request.app[TICKETS].tickets.get(request.match_info["ticket_id"],
                                                     _actor(request))
    return json_response(ticket)


async def ticket_events(request: web.Request) -> web.Response:
    return items(await request.app[TICKETS].tickets.events(request.match_info["ticket_id"],
                                                           _actor(request)))


async def ticket_action(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound(text=json.dumps({"error": f"no action {action!r}"}),
                               content_type="application/json")
    params = await optional_json_object(request)
    ticket = await request.app[TICKETS].tickets.act(request.match_info["ticket_id"], action,
                                                     params, _actor(request))
    return json_response(ticket)


async def list_units(request: web.Request) -> web.Response:
    return items(await request.app[TICKETS].tickets.units())


async def add_unit(request: web.Request) -> web.Response:
    require_role(request, "admin")
    body = await json_object(request)
    duty = body.get("duty_phone")
    if duty is not None and not isinstance(duty, str):
        raise RequestInvalid("duty_phone", "duty_phone must be a string")
    unit = await request.app[TICKETS].tickets.add_unit(
        string_field(body, "code", max_length=32), string_field(body, "name", max_length=128),
        string_field(body, "phone", max_length=32), duty or None)
    return json_response(unit, status=201)


async def list_outbox(request: web.Request) -> web.Response:
    require_role(request, "admin", "supervisor")
    state = request.query.get("state", "dead")
    if state not in ("dead", "pending", "delivered", "all"):
        raise RequestInvalid("state", "state must be dead, pending, delivered or all")
    limit, offset = paging(request)
    found, total = await request.app[TICKETS].outbox.messages(state, limit, offset)
    return items(found, total)


async def retry_outbox(request: web.Request) -> web.Response:
    require_role(request, "admin")
    try:
        message_id = int(request.match_info["message_id"])
    except ValueError:
        raise RequestInvalid("message_id", "message_id must be a number") from None
    if not await request.app[TICKETS].outbox.retry(message_id):
        raise NoSuchItem(f"no undelivered message {message_id}")
    return json_response({"ok": True})


async def measures(request: web.Request) -> web.Response:
    require_role(request, "admin", "supervisor", "operator")
    since, until = datetime_param(request, "since"), datetime_param(request, "until")
    if since is None or until is None:
        field = "since" if since is None else "until"
        raise RequestInvalid(field, f"{field} is required (ISO 8601)")
    return json_response(await measure(request.app[TICKETS].db, since, until))


async def period_report(request: web.Request) -> web.StreamResponse:
    require_role(request, "admin", "supervisor", "operator")
    kind = request.match_info["period"]
    if kind not in ("weekly", "monthly", "quarterly"):
        raise NoSuchItem(f"no {kind} report; weekly, monthly or quarterly")
    services = request.app[TICKETS]
    raw = request.query.get("date")
    try:
        day = date.fromisoformat(raw) if raw else services.tickets.today()
    except ValueError:
        raise RequestInvalid("date", "date must be YYYY-MM-DD") from None
    fmt = request.query.get("format", "html")
    if fmt not in ("html", "csv", "json"):
        raise RequestInvalid("format", "format must be html, csv or json")
    data = await report(services.db, kind, day, ZoneInfo(services.tickets.timezone))
    if fmt == "json":
        return json_response(data)
    if fmt == "csv":
        return web.Response(text=report_csv(data), content_type="text/csv", charset="utf-8")
    return web.Response(text=report_html(data), content_type="text/html", charset="utf-8")


def setup(app: web.Application, routes: TicketRoutes) -> None:
    app[TICKETS] = routes
    r = app.router
    r.add_post("/api/tickets", create_ticket)
    r.add_get("/api/tickets", list_tickets)
    r.add_get("/api/tickets/export", export_tickets)
    r.add_get("/api/tickets/{ticket_id}", get_ticket)
    r.add_get("/api/tickets/{ticket_id}/events", ticket_events)
    r.add_post("/api/tickets/{ticket_id}/{action}", ticket_action)
    r.add_get("/api/units", list_units)
    r.add_post("/api/units", add_unit)
    r.add_get("/api/outbox", list_outbox)
    r.add_post("/api/outbox/{message_id}/retry", retry_outbox)
    r.add_get("/api/reports/measures", measures)
    r.add_get("/api/reports/{period}", period_report)

