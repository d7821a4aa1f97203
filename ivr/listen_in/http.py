"""Supervisors listen to, whisper to or barge into a call (监听/耳语/强插); the audit log."""

from __future__ import annotations

from aiohttp import web

from http_kit.principal import require_role
from http_kit.requests import paging
from http_kit.responses import items, json_response
from ivr.errors import NotFound
from ivr.listen_in.service import MODES, ListenInService

LISTEN_IN = web.AppKey("listen in", ListenInService)


async def supervise_call(request: web.Request) -> web.Response:
    principal = require_role(request, "supervisor", "admin", why="only supervisors listen "
                             "to, whisper to or barge into calls")
    mode = request.match_info["mode"]
    if mode not in MODES:
        raise NotFound(f"no action {mode}; one of {', '.join(MODES)}")
    action = await request.app[LISTEN_IN].supervise(
        request.match_info["call_id"], mode, principal.name, principal.seat)
    return json_response(action, status=201)


async def listen_in_log(request: web.Request) -> web.Response:
    require_role(request, "supervisor", "admin", why="the supervision log is for supervisors")
    limit, offset = paging(request)
    found, total = await request.app[LISTEN_IN].log(limit, offset)
    return items(found, total)


def setup(app: web.Application, listen_in: ListenInService) -> None:
    app[LISTEN_IN] = listen_in
    app.router.add_post("/api/calls/{call_id}/{mode}", supervise_call)
    app.router.add_get("/api/supervision", listen_in_log)
