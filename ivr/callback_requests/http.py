"""Callback requests and voice messages (回拨/留言) over HTTP: the operators' work list."""

from __future__ import annotations

from aiohttp import web

from http_kit.errors import RequestInvalid
from http_kit.principal import Principal, require_role
from http_kit.requests import optional_json_object, paging
from http_kit.responses import items, json_response, recording
from ivr.callback_requests.service import CallbackRequests

CALLBACKS = web.AppKey("callback requests", CallbackRequests)


def _staff(request: web.Request) -> Principal:
    return require_role(request, "operator", "supervisor", "admin",
                        why="callbacks are worked by the hotline's operators")


def _task_id(request: web.Request) -> int:
    try:
        return int(request.match_info["task_id"])
    except ValueError:
        raise RequestInvalid("task_id", "task_id must be a number") from None


async def list_callbacks(request: web.Request) -> web.Response:
    _staff(request)
    state = request.query.get("state", "open")
    if state not in ("open", "done", "all"):
        raise RequestInvalid("state", "state must be open, done or all")
    limit, offset = paging(request)
    found, total = await request.app[CALLBACKS].list(state, limit, offset)
    return items(found, total)


async def callback_done(request: web.Request) -> web.Response:
    principal = _staff(request)
    note = (await optional_json_object(request)).get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise RequestInvalid("note", "note must be a string of at most 500 characters")
    return json_response(await request.app[CALLBACKS].done(_task_id(request), principal.name,
                                                           note))


async def callback_recording(request: web.Request) -> web.StreamResponse:
    _staff(request)
    task = await request.app[CALLBACKS].get(_task_id(request))
    return await recording(task.recording, f"callback task {task.id} has no recording")


def setup(app: web.Application, callbacks: CallbackRequests) -> None:
    app[CALLBACKS] = callbacks
    app.router.add_get("/api/callbacks", list_callbacks)
    app.router.add_post("/api/callbacks/{task_id}/done", callback_done)
    app.router.add_get("/api/callbacks/{task_id}/recording", callback_recording)
