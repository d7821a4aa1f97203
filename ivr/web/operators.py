"""HTTP routes of the operators' slice: seats (ready/pause), the screen-pop websocket,
supervisors' listen/whisper/barge with its audit log, and the callback list."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from ivr.accounts.service import Principal
from ivr.errors import NotFound
from ivr.screen_pops.service import ALL_SEATS
from ivr.supervision.service import MODES
from ivr.web.app import (
    PRINCIPAL,
    SERVICES,
    SOCKETS,
    RequestInvalid,
    json_object,
    json_response,
    paging,
    require_role,
    safe_dumps,
)
from store.tasks import cancel_and_wait
from tickets.errors import NotPermitted


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


async def seat_sign_out(request: web.Request) -> web.Response:
    seat = _own_seat_or_supervisor(request)
    return json_response(await request.app[SERVICES].seats.sign_out(seat))


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
    principal = require_role(request, "supervisor", "admin", why="only supervisors listen "
                             "to, whisper to or barge into calls")
    mode = request.match_info["mode"]
    if mode not in MODES:
        raise NotFound(f"no action {mode}; one of {', '.join(MODES)}")
    action = await request.app[SERVICES].supervision.supervise(
        request.match_info["call_id"], mode, principal.name, principal.seat)
    return json_response(action, status=201)


async def supervision_log(request: web.Request) -> web.Response:
    require_role(request, "supervisor", "admin", why="the supervision log is for supervisors")
    limit, offset = paging(request)
    items, total = await request.app[SERVICES].supervision.log(limit, offset)
    return json_response({"items": items, "total": total})


def _staff(request: web.Request) -> Principal:
    return require_role(request, "operator", "supervisor", "admin",
                        why="callbacks are worked by the hotline's operators")


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


SUPERVISOR_PAGE = Path(__file__).with_name("static") / "supervisor.html"


async def supervisor_state(request: web.Request) -> web.Response:
    require_role(request, "supervisor", "admin", why="the live view is for supervisors")
    return json_response(await request.app[SERVICES].supervisor_view.snapshot())


async def supervisor_page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(SUPERVISOR_PAGE)


def add_operator_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/ws", websocket)
    r.add_get("/api/supervisor/state", supervisor_state)
    r.add_get("/supervisor", supervisor_page)
    r.add_get("/api/seats", list_seats)
    r.add_post("/api/seats/{seat}/ready", seat_ready)
    r.add_post("/api/seats/{seat}/pause", seat_pause)
    r.add_post("/api/seats/{seat}/logout", seat_sign_out)
    r.add_post("/api/calls/{call_id}/{mode}", supervise_call)
    r.add_get("/api/supervision", supervision_log)
    r.add_get("/api/callbacks", list_callbacks)
    r.add_post("/api/callbacks/{task_id}/done", callback_done)
    r.add_get("/api/callbacks/{task_id}/recording", callback_recording)
    app.on_shutdown.append(_close_websockets)
