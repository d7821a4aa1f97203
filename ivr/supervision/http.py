"""Supervisors listen to, whisper to or barge into a call (监听/耳语/强插); the audit log."""

from __future__ import annotations

from aiohttp import web

from http_kit.principal import require_role
from http_kit.requests import paging
from http_kit.responses import items, json_response
from ivr.errors import NotFound
from ivr.supervision.service import MODES, SupervisionService

SUPERVISION = web.AppKey("supervision", SupervisionService)


async def supervise_call(request: web.Request) -> web.Response:
    principal = require_role(request, "supervisor", "admin", why="only supervisors listen "
                             "to, whisper to or barge into calls")
    mode = request.match_info["mode"]
    if mode not in MODES:
        raise NotFound(f"no action {mode}; one of {', '.join(MODES)}")
    action = await request.app[SUPERVISION].supervise(
        request.match_info["call_id"], mode, principal.name, principal.seat)
    return json_response(action, status=201)


async def supervision_log(request: web.Request) -> web.Response:
    require_role(request, "supervisor", "admin", why="the supervision log is for supervisors")
    limit, offset = paging(request)
    found, total = await request.app[SUPERVISION].log(limit, offset)
    return items(found, total)


def setup(app: web.Application, supervision: SupervisionService) -> None:
    app[SUPERVISION] = supervision
    app.router.add_post("/api/calls/{call_id}/{mode}", supervise_call)
    app.router.add_get("/api/supervision", supervision_log)
