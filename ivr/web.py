"""The HTTP API (aiohttp): health, login and call records. Built by one function; the only
module that imports aiohttp's web layer. Handlers validate, call one service, shape JSON."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.auth import Accounts, LoginFailed, Principal
from ivr.call_log import CallLog, call_view
from ivr.callbacks import Callbacks
from ivr.db import Database
from ivr.errors import AmiError, NotFound
from ivr.openapi import OPENAPI
from ivr.screen_pops import ALL_SEATS, ScreenPops
from ivr.seats import InvalidSeat, SeatService
from ivr.supervision import MODES, CannotSupervise, SupervisionService
from ivr.tasks import cancel_and_wait
from tickets.errors import InvalidField, NotPermitted, StepRefused, TicketNotFound
from tickets.outbox import OutboxAdmin
from tickets.service import TicketService

log = logging.getLogger(__name__)

SESSION_COOKIE = "hotline_session"
MAX_BODY = 64 * 1024
PUBLIC = {"/api/health", "/api/login", "/openapi.json", "/console"}

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


SERVICES = web.AppKey("services", WebServices)
SOCKETS = web.AppKey("websockets", set)
PRINCIPAL = web.RequestKey("principal", Principal)


def safe_dumps(data: Any) -> str:
    """JSON with <, > and & escaped: text a citizen filed can never act as markup where a
    page embeds the response, and it still decodes to exactly what was filed."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
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
        if request.path not in PUBLIC:
            token = _token_of(request)
            principal = await request.app[SERVICES].accounts.authenticate(token) if token else None
            if principal is None:
                return _error(401, "login required")
            request[PRINCIPAL] = principal
        return await handler(request)
    except RequestInvalid as exc:
        return _error(exc.status, str(exc), exc.field)
    except (InvalidField, InvalidSeat) as exc:
        return _error(422, str(exc), exc.field)
    except (StepRefused, CannotSupervise) as exc:
        return _error(409, str(exc))
    except NotPermitted as exc:
        return _error(403, str(exc))
    except (NotFound, TicketNotFound) as exc:
        return _error(404, str(exc))
    except AmiError as exc:
        return _error(503, f"the PBX did not take the change: {exc}")
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal error")


async def json_object(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise RequestInvalid("body", f"request body over {MAX_BODY} bytes", 413)
    try:
        body = json.loads(await request.read())
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


def _own_seat_or_supervisor(request: web.Request) -> str:
    seat = request.match_info["seat"]
    principal: Principal = request[PRINCIPAL]
    if principal.role in ("supervisor", "admin") or principal.seat == seat:
        return seat
    raise NotPermitted("operators change only their own seat")


async def list_seats(request: web.Request) -> web.Response:
    seats = await request.app[SERVICES].seats.list()
    return json_response({"items": seats, "total": len(seats)})


async def seat_ready(request: web.Request) -> web.Response:
    seat = _own_seat_or_supervisor(request)
    return json_response(await request.app[SERVICES].seats.set_state(seat, paused=False))


async def seat_pause(request: web.Request) -> web.Response:
    seat = _own_seat_or_supervisor(request)
    body = await json_object(request) if request.can_read_body else {}
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise RequestInvalid("reason", "reason must be a string")
    return json_response(await request.app[SERVICES].seats.set_state(seat, paused=True,
                                                                     reason=reason))


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Operators get screen pops for their own seat; supervisors and admins get every seat's."""
    principal: Principal = request[PRINCIPAL]
    if principal.role in ("supervisor", "admin"):
        channel = ALL_SEATS
    elif principal.role == "operator" and principal.seat:
        channel = principal.seat
    else:
        raise NotPermitted("screen pops are for operators with a seat, and supervisors")
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    pops = request.app[SERVICES].pops
    queue = pops.subscribe(channel)
    request.app[SOCKETS].add(ws)

    async def forward() -> None:
        while True:
            await ws.send_json(await queue.get(), dumps=safe_dumps)

    sender = asyncio.create_task(forward())
    try:
        await ws.send_json({"type": "hello", "user": principal.name, "seat": principal.seat,
                            "role": principal.role}, dumps=safe_dumps)
        async for _message in ws:  # nothing to read; this keeps the socket open
            pass
    finally:
        await cancel_and_wait(sender)
        pops.unsubscribe(channel, queue)
        request.app[SOCKETS].discard(ws)
    return ws


async def supervise_call(request: web.Request) -> web.Response:
    principal: Principal = request[PRINCIPAL]
    if principal.role not in ("supervisor", "admin"):
        raise NotPermitted("only supervisors listen to, whisper to or barge into calls")
    mode = request.match_info["mode"]
    if mode not in MODES:
        raise NotFound(f"no action {mode}; one of {', '.join(MODES)}")
    action = await request.app[SERVICES].supervision.supervise(
        request.match_info["call_id"], mode, principal.name, principal.seat)
    return json_response(action, status=201)


async def supervision_log(request: web.Request) -> web.Response:
    principal: Principal = request[PRINCIPAL]
    if principal.role not in ("supervisor", "admin"):
        raise NotPermitted("the supervision log is for supervisors")
    limit, offset = paging(request)
    items, total = await request.app[SERVICES].supervision.log(limit, offset)
    return json_response({"items": items, "total": total})


def _staff(request: web.Request) -> Principal:
    principal: Principal = request[PRINCIPAL]
    if principal.role not in ("operator", "supervisor", "admin"):
        raise NotPermitted("callbacks are worked by the hotline's operators")
    return principal


async def list_callbacks(request: web.Request) -> web.Response:
    _staff(request)
    state = request.query.get("state", "open")
    if state not in ("open", "done", "all"):
        raise RequestInvalid("state", "state must be open, done or all")
    limit, offset = paging(request)
    items, total = await request.app[SERVICES].callbacks.list(state, limit, offset)
    return json_response({"items": items, "total": total})


def _task_id(request: web.Request) -> int:
    try:
        return int(request.match_info["task_id"])
    except ValueError:
        raise RequestInvalid("task_id", "task_id must be a number") from None


async def callback_done(request: web.Request) -> web.Response:
    principal = _staff(request)
    body = await json_object(request) if request.can_read_body else {}
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise RequestInvalid("note", "note must be a string of at most 500 characters")
    return json_response(await request.app[SERVICES].callbacks.done(
        _task_id(request), principal.name, note))


async def callback_recording(request: web.Request) -> web.StreamResponse:
    _staff(request)
    task = await request.app[SERVICES].callbacks.get(_task_id(request))
    if not task.recording or not await asyncio.to_thread(Path(task.recording).is_file):
        raise NotFound(f"callback task {task.id} has no recording")
    return web.FileResponse(task.recording, headers={"Content-Type": "audio/wav"})


async def _close_websockets(app: web.Application) -> None:
    for ws in set(app[SOCKETS]):
        await ws.close(code=1001, message=b"hotline stopping")


async def openapi(_request: web.Request) -> web.Response:
    return json_response(OPENAPI)


def build_app(services: WebServices) -> web.Application:
    from ivr.web_tickets import add_ticket_routes  # the tickets slice registers its routes

    app = web.Application(middlewares=[errors_and_auth], client_max_size=MAX_BODY)
    app[SERVICES] = services
    app[SOCKETS] = set()
    app.on_shutdown.append(_close_websockets)
    app.router.add_get("/api/health", health)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", whoami)
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    app.router.add_get("/api/calls/{call_id}/recording", get_recording)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/ws", websocket)
    app.router.add_post("/api/calls/{call_id}/{mode}", supervise_call)
    app.router.add_get("/api/supervision", supervision_log)
    app.router.add_get("/api/callbacks", list_callbacks)
    app.router.add_post("/api/callbacks/{task_id}/done", callback_done)
    app.router.add_get("/api/callbacks/{task_id}/recording", callback_recording)
    app.router.add_get("/api/seats", list_seats)
    app.router.add_post("/api/seats/{seat}/ready", seat_ready)
    app.router.add_post("/api/seats/{seat}/pause", seat_pause)
    add_ticket_routes(app)
    return app
