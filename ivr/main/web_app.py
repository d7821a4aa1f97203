"""The web app as the composition root builds it: every slice registers its own routes
(only here is a slice's http.py imported)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import version

from aiohttp import web

import tickets.http as ticket_routes
from http_kit.openapi import serve_openapi
from ivr.accounts.service import Accounts
from ivr.callback_requests import http as callback_routes
from ivr.callback_requests.service import CallbackRequests
from ivr.calls import http as call_routes
from ivr.calls.call_log import CallLog
from ivr.conf import http as conf_routes
from ivr.conf.admin import ConfAdmin
from ivr.listen_in import http as listen_in_routes
from ivr.listen_in.service import ListenInService
from ivr.live_view import http as live_view_routes
from ivr.live_view.service import LiveView
from ivr.metrics import http as metric_routes
from ivr.metrics.service import HotlineMetrics
from ivr.schedule import http as schedule_routes
from ivr.schedule.staffing import Staffing
from ivr.screen_pops import http as pop_routes
from ivr.screen_pops.service import ScreenPops
from ivr.seats import http as seat_routes
from ivr.seats.service import SeatService
from ivr.transfers import http as transfer_routes
from ivr.transfers.service import TransferService
from ivr.web import auth as auth_routes
from ivr.web import health as health_routes
from ivr.web import pages
from ivr.web.app import RouteSetup, build_app
from ivr.web.health import HealthCheck
from store.db import Database
from tickets.outbox import OutboxAdmin
from tickets.service import TicketService


@dataclass(frozen=True)
class WebServices:
    """What the web app is built from; each slice's routes get only their own service."""

    accounts: Accounts
    calls: CallLog
    health: HealthCheck
    tickets: TicketService
    outbox: OutboxAdmin
    db: Database
    seats: SeatService
    pops: ScreenPops
    listen_in: ListenInService
    callbacks: CallbackRequests
    live_view: LiveView
    staffing: Staffing | None = None  # staffed hours; None where no PBX runs (unit tests)
    transfers: TransferService | None = None  # likewise
    metrics: HotlineMetrics | None = None  # GET /metrics
    conf: ConfAdmin | None = None  # the admin page's configuration


def build_web_app(services: WebServices) -> web.Application:
    """The HTTP API and pages: every slice registers its own routes."""
    setups: list[RouteSetup] = [
        functools.partial(health_routes.setup, check=services.health),
        functools.partial(auth_routes.setup, accounts=services.accounts),
        functools.partial(call_routes.setup, calls=services.calls),
        functools.partial(seat_routes.setup, seats=services.seats),
        functools.partial(pop_routes.setup, pops=services.pops),
        functools.partial(listen_in_routes.setup, listen_in=services.listen_in),
        functools.partial(callback_routes.setup, callbacks=services.callbacks),
        functools.partial(live_view_routes.setup, view=services.live_view),
        functools.partial(ticket_routes.setup, routes=ticket_routes.TicketRoutes(
            services.tickets, services.outbox, services.db, services.calls)),
        pages.setup,
    ]
    if services.staffing is not None:
        setups.append(functools.partial(schedule_routes.setup, staffing=services.staffing))
    if services.transfers is not None:
        setups.append(functools.partial(transfer_routes.setup, transfers=services.transfers))
    if services.metrics is not None:
        setups.append(functools.partial(metric_routes.setup, metrics=services.metrics))
    if services.conf is not None:
        setups.append(functools.partial(conf_routes.setup, conf=services.conf))
    # Last: the document describes every route registered before it.
    setups.append(functools.partial(serve_openapi, title="12345 hotline API",
                                    version=version("hotline12345"),
                                    session_cookie=auth_routes.SESSION_COOKIE))
    return build_app(setups)
