"""HTTP routes of the ticket slice: filing, lifecycle steps, search and export, units, the
outbox's dead letters, and reports. Handlers validate, call one service, shape the answer.
Their models are in tickets/http_models.py.

The only module of tickets/ that knows aiohttp; it knows nothing of telephony: the call a
filing names is looked up through the CallRecords the composition root passes in."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web

from http_kit.principal import PRINCIPAL, require_role
from http_kit.responses import Page, items, json_response
from http_kit.routes import Answer, Handler, Routes
from store.db import Database
from tickets.errors import InvalidField, NoSuchItem
from tickets.filing import parse_new_ticket
from tickets.http_models import (
    ACTION_BODIES,
    Export,
    MessagePath,
    NewTicket,
    NewUnit,
    OutboxQuery,
    ReportQuery,
    Span,
    Ticket,
    TicketPage,
    TicketPath,
    TicketQuery,
    UnitQuery,
)
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


api = Routes()
# Every write goes through the ticket writer process; while it is replaced, 503.
WRITING = {503: "the ticket writer is restarting; the change may or may not have been "
                "made: look the ticket up before trying again"}
STAFF = {403: "not hotline staff"}


def _actor(request: web.Request) -> Actor:
    p = request[PRINCIPAL]
    return Actor(p.name, p.role, p.unit)


def _filters(q: TicketQuery) -> TicketFilters:
    return TicketFilters(phone=q.phone, status=q.status, unit=q.unit, kind=q.kind,
                         overdue=q.overdue, supervised=q.supervised, since=q.since,
                         until=q.until)


@api.post("/api/tickets", "File a ticket", body=NewTicket, validate_body=False,
             answers={201: Answer("filed", Ticket), 403: "units do not file",
                      422: "a bad field, named in `field`", **WRITING})
async def create_ticket(request: web.Request, body: dict[str, Any]) -> web.Response:
    principal = require_role(request, "operator", "supervisor", "admin")
    services = request.app[TICKETS]
    new = parse_new_ticket(body)
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


@api.get("/api/tickets", "Search tickets (units: only their own, masked)",
            query=TicketPage, answers={200: Answer("a page of tickets", Page[Ticket])})
async def list_tickets(request: web.Request, query: TicketPage) -> web.Response:
    found, total = await request.app[TICKETS].tickets.search(
        _actor(request), _filters(query), limit=query.limit, offset=query.offset)
    return items(found, total)


@api.get("/api/tickets/export", f"Export as CSV or JSON (at most {EXPORT_LIMIT})",
            query=Export, answers={200: Answer("the tickets, as asked", Page[Ticket],
                                               ("text/csv", "application/json"))})
async def export_tickets(request: web.Request, query: Export) -> web.StreamResponse:
    found, total = await request.app[TICKETS].tickets.search(
        _actor(request), _filters(query), limit=EXPORT_LIMIT, offset=0)
    if query.format == "json":
        return items(found, total)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for item in found:
        writer.writerow([json.dumps(item[c], ensure_ascii=False)
                         if isinstance(item[c], list) else item[c] for c in EXPORT_COLUMNS])
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'})


@api.get("/api/tickets/{ticket_id}", "One ticket", path_model=TicketPath,
            answers={200: Answer("the ticket", Ticket), 404: "no such ticket (for you)"})
async def get_ticket(request: web.Request, path: TicketPath) -> web.Response:
    return json_response(await request.app[TICKETS].tickets.get(path.ticket_id,
                                                                 _actor(request)))


@api.get("/api/tickets/{ticket_id}/events", "The audit trail", path_model=TicketPath,
            answers={200: Answer("every event, oldest first"), 404: "no such ticket"})
async def ticket_events(request: web.Request, path: TicketPath) -> web.Response:
    return items(await request.app[TICKETS].tickets.events(path.ticket_id, _actor(request)))


def _step(action: str) -> Handler:
    """The handler of one lifecycle action: one route each, so each body is documented."""
    async def ticket_action(request: web.Request, path: TicketPath,
                            body: dict[str, Any]) -> web.Response:
        return json_response(await request.app[TICKETS].tickets.act(
            path.ticket_id, action, body, _actor(request)))
    return ticket_action


for _action in ACTIONS:
    api.post(f"/api/tickets/{{ticket_id}}/{_action}", f"Lifecycle step: {_action}",
                path_model=TicketPath, body=ACTION_BODIES[_action], validate_body=False,
                answers={200: Answer("the ticket after the step", Ticket),
                         403: "this role may not take this step", 404: "no such ticket",
                         409: "the rules forbid this step now", **WRITING})(_step(_action))


@api.get("/api/units", "Responsible units, found by name, code or pinyin initials",
         query=UnitQuery, answers={200: Answer(
             "the units, each with number_now: the number a transfer would call now "
             "(number_kind day or duty), or unreachable: why none can be called now")})
async def list_units(request: web.Request, query: UnitQuery) -> web.Response:
    return items(await request.app[TICKETS].tickets.units(query.q))


@api.post("/api/units", "Add or update a unit (admin)", body=NewUnit,
             answers={201: Answer("the unit"), 403: "admins only", **WRITING})
async def add_unit(request: web.Request, body: NewUnit) -> web.Response:
    require_role(request, "admin")
    unit = await request.app[TICKETS].tickets.add_unit(body.code, body.name, body.phone,
                                                       body.duty_phone or None,
                                                       body.hours or None)
    return json_response(unit, status=201)


@api.get("/api/outbox", "Downstream deliveries (dead letters by default)",
            query=OutboxQuery, answers={200: Answer("a page of messages"),
                                        403: "admins and supervisors only"})
async def list_outbox(request: web.Request, query: OutboxQuery) -> web.Response:
    require_role(request, "admin", "supervisor")
    found, total = await request.app[TICKETS].outbox.messages(query.state, query.limit,
                                                              query.offset)
    return items(found, total)


@api.post("/api/outbox/{message_id}/retry", "Send a dead letter again (admin)",
             path_model=MessagePath, answers={200: Answer("queued again"),
                                              403: "admins only",
                                              404: "no undelivered message"})
async def retry_outbox(request: web.Request, path: MessagePath) -> web.Response:
    require_role(request, "admin")
    if not await request.app[TICKETS].outbox.retry(path.message_id):
        raise NoSuchItem(f"no undelivered message {path.message_id}")
    return json_response({"ok": True})


@api.get("/api/reports/measures",
            "First-time resolution, response and satisfaction rates, per unit and overall",
            query=Span, answers={200: Answer("the measures"), **STAFF})
async def measures(request: web.Request, query: Span) -> web.Response:
    require_role(request, "admin", "supervisor", "operator")
    return json_response(await measure(request.app[TICKETS].db, query.since, query.until))


def _report(period: str) -> Handler:
    async def period_report(request: web.Request, query: ReportQuery) -> web.StreamResponse:
        require_role(request, "admin", "supervisor", "operator")
        services = request.app[TICKETS]
        day = query.date or services.tickets.today()
        data = await report(services.db, period, day, ZoneInfo(services.tickets.timezone))
        if query.format == "json":
            return json_response(data)
        if query.format == "csv":
            return web.Response(text=report_csv(data), content_type="text/csv",
                                charset="utf-8")
        return web.Response(text=report_html(data), content_type="text/html",
                            charset="utf-8")
    return period_report


for _period in ("weekly", "monthly", "quarterly"):
    api.get(f"/api/reports/{_period}", f"The {_period} report: unit ranking, hot spots",
               query=ReportQuery, answers={
                   200: Answer("the report, as asked", None,
                               ("text/html", "text/csv", "application/json")),
                   **STAFF})(_report(_period))


def setup(app: web.Application, routes: TicketRoutes) -> None:
    app[TICKETS] = routes
    api.register(app)
