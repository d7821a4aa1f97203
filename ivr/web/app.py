"""The HTTP API (aiohttp): health, login and call records. Built by one function; the only
module that imports aiohttp's web layer. Handlers validate, call one service, shape JSON."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.accounts.service import Accounts, LoginFailed, Principal
from ivr.callback_requests.service import Callbacks
from ivr.calls.call_log import CallLog, call_view
from ivr.errors import AmiError, NotFound
from ivr.live_view.service import SupervisorView
from ivr.schedule.hours import InvalidSchedule
from ivr.schedule.staffing import Staffing
from ivr.screen_pops.service import ScreenPops
from ivr.seats.service import InvalidSeat, SeatService
from ivr.supervision.service import CannotSupervise, SupervisionService
from ivr.web.openapi import OPENAPI
from store import jsonio
from store.db import Database
from store.process_writer import WriterUnavailable
from tickets.errors import InvalidField, NotPermitted, StepRefused, TicketNotFound
from tickets.outbox import OutboxAdmin
from tickets.service import TicketService

log = logging.getLogger(__name__)

SESSION_COOKIE = "hotline_session"
MAX_BODY = 64 * 1024
PUBLIC = {"/api/health", "/api/login", "/openapi.json", "/console", "/supervisor"}

HealthCheck = Callable[[], Awaitable[dict[str, str]]]


class RequestInvalid(Exception):
    """A request the API refuses: names the field and why (422, or 400 for broken JSON)."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class WebServices:
    accounts: Accounts
    calls: CallLog
    health: HealthCheck
    tickets: TicketService
    outbox: OutboxAdmin
    db: Database
    seats: SeatService
    pops: ScreenPops
    supervision: SupervisionService
    callbacks: Callbacks
    supervisor_view: SupervisorView
    staffing: Staffing | None = None  # staffed hours; None where no PBX runs (unit tests)


SERVICES = web.AppKey("services", WebServices)
SOCKETS = web.AppKey("websockets", set)
PRINCIPAL = web.RequestKey("principal", Principal)


def safe_dumps(data: Any) -> str:
    """JSON with <, > and & escaped: text a citizen filed can never act as markup where a
    page embeds the response, and it still decodes to exactly what was filed."""
    return (jsonio.dumps(data).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=safe_dumps)


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return json_response(body, status=status)


def _token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    if request.path == "/ws" and request.query.get("token"):
        return request.query["token"]  # browsers cannot set headers on a websocket
    return request.cookies.get(SESSION_COOKIE)


@web.middleware
async def errors_and_auth(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
    try:
        if request.path not in PUBLIC and not request.path.startswith("/static/"):
            token = _token_of(request)
            principal = await request.app[SERVICES].accounts.authenticate(token) if token else None
            if principal is None:
                return _error(401, "login required")
            request[PRINCIPAL] = principal
        return await handler(request)
    except RequestInvalid as exc:
        return _error(exc.status, str(exc), exc.field)
    except (InvalidField, InvalidSeat, InvalidSchedule) as exc:
        return _error(422, str(exc), exc.field)
    except (StepRefused, CannotSupervise) as exc:
        return _error(409, str(exc))
    except NotPermitted as exc:
        return _error(403, str(exc))
    except (NotFound, TicketNotFound) as exc:
        return _error(404, str(exc))
    except AmiError as exc:
        return _error(503, f"the PBX did not take the change: {exc}")
    except WriterUnavailable as exc:
        return _error(503, str(exc))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal error")


def require_role(request: web.Request, *roles: str, why: str | None = None) -> Principal:
    """The logged-in principal, if their role is one of roles; 403 (saying why) if not."""
    principal: Principal = request[PRINCIPAL]
    if principal.role not in roles:
        raise NotPermitted(why or f"a {principal.role} may not do this")
    return principal


async def json_object(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise RequestInvalid("body", f"request body over {MAX_BODY} bytes", 413)
    try:
        # orjson: a filing's body parses in a fifth of json's time; it takes UTF-8 only,
        # which is what RFC 8259 asks of JSON over a network.
        body = jsonio.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise RequestInvalid("body", "body must be JSON", 400) from None
    if not isinstance(body, dict):
        raise RequestInvalid("body", "body must be a JSON object", 400)
    return body


def string_field(body: dict[str, Any], name: str, *, max_length: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise RequestInvalid(name, f"{name} is required and must be a non-empty string")
    if len(value) > max_length:
        raise RequestInvalid(name, f"{name} is longer than {max_length} characters")
    return value


def paging(request: web.Request) -> tuple[int, int]:
    return (int_param(request, "limit", 50, 1, 500), int_param(request, "offset", 0, 0, 10**9))


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RequestInvalid(name, f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise RequestInvalid(name, f"{name} must be between {low} and {high}")
    return value


def datetime_param(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RequestInvalid(name, f"{name} must be an ISO 8601 date or time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def bool_param(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise RequestInvalid(name, f"{name} must be true or false")


async def health(request: web.Request) -> web.Response:
    state = await request.app[SERVICES].health()
    healthy = all(value == "up" for value in state.values())
    return json_response(state, status=200 if healthy else 503)


async def login(request: web.Request) -> web.Response:
    body = await json_object(request)
    name = string_field(body, "user", max_length=64)
    password = string_field(body, "password", max_length=256)
    try:
        token, principal = await request.app[SERVICES].accounts.login(name, password)
    except LoginFailed as exc:
        return _error(401, str(exc))
    response = json_response({"token": token, "user": principal.name,
                                  "role": principal.role, "seat": principal.seat,
                                  "unit": principal.unit})
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict",
                        max_age=12 * 3600)
    return response


async def logout(request: web.Request) -> web.Response:
    token = _token_of(request)
    if token:
        await request.app[SERVICES].accounts.logout(token)
    response = json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE)
    return response


async def whoami(request: web.Request) -> web.Response:
    principal: Principal = request[PRINCIPAL]
    return json_response({"user": principal.name, "role": principal.role,
                              "seat": principal.seat, "unit": principal.unit})


async def list_calls(request: web.Request) -> web.Response:
    limit, offset = paging(request)
    items, total = await request.app[SERVICES].calls.search(
        caller=request.query.get("caller") or None,
        since=datetime_param(request, "since"),
        active=bool_param(request, "active"),
        limit=limit, offset=offset,
    )
    return json_response({"items": [call_view(c) for c in items], "total": total})


async def get_call(request: web.Request) -> web.Response:
    call = await request.app[SERVICES].calls.get(request.match_info["call_id"])
    return json_response(call_view(call))


async def get_recording(request: web.Request) -> web.StreamResponse:
    call = await request.app[SERVICES].calls.get(request.match_info["call_id"])
    if not call.recording or not await asyncio.to_thread(Path(call.recording).is_file):
        raise NotFound(f"call {call.id} has no recording (yet)")
    return web.FileResponse(call.recording, headers={"Content-Type": "audio/wav"})


async def openapi(_request: web.Request) -> web.Response:
    return json_response(OPENAPI)


def build_app(services: WebServices) -> web.Application:
    # each slice registers its own routes
    from ivr.schedule.http import add_admin_routes
    from ivr.web.operators import add_operator_routes
    from ivr.web.tickets_routes import add_ticket_routes

    app = web.Application(middlewares=[errors_and_auth], client_max_size=MAX_BODY)
    app[SERVICES] = services
    app[SOCKETS] = set()
    app.router.add_get("/api/health", health)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", whoami)
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    app.router.add_get("/api/calls/{call_id}/recording", get_recording)
    app.router.add_get("/openapi.json", openapi)
    add_operator_routes(app)
    add_admin_routes(app)
    app.router.add_static("/static/", Path(__file__).with_name("static"))
    add_ticket_routes(app)
    return app
