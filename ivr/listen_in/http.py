"""Supervisors listen to, whisper to or barge into a call (监听/耳语/强插); the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from http_kit.principal import require_role
from http_kit.requests import Paging
from http_kit.responses import items, json_response
from http_kit.routes import Answer, Routes
from ivr.listen_in.service import MODES, ListenInService

LISTEN_IN = web.AppKey("listen in", ListenInService)
api = Routes()


class CallPath(BaseModel):
    call_id: str


def _supervise(mode: str) -> Any:
    """The handler of one mode: one route per mode, so the document lists each."""
    async def supervise_call(request: web.Request, path: CallPath) -> web.Response:
        principal = require_role(request, "supervisor", "admin", why="only supervisors "
                                 "listen to, whisper to or barge into calls")
        action = await request.app[LISTEN_IN].supervise(path.call_id, mode, principal.name,
                                                        principal.seat)
        return json_response(action, status=201)
    return supervise_call


for _mode in MODES:
    api.post(f"/api/calls/{{call_id}}/{_mode}",
                f"Supervisor: {_mode} (the supervisor's own seat phone rings)",
                path_model=CallPath, answers={
                    201: Answer("requested, audited; the supervisor's phone rings"),
                    403: "only supervisors", 404: "no such call",
                    409: "not a call an operator is on now, your own, or you have no seat",
                    503: "the PBX did not take the request"})(_supervise(_mode))


@api.get("/api/supervision", "Audit log of listen/whisper/barge: who, when, which call",
            query=Paging, answers={200: Answer("a page of the log"), 403: "only supervisors"})
async def listen_in_log(request: web.Request, query: Paging) -> web.Response:
    require_role(request, "supervisor", "admin", why="the supervision log is for supervisors")
    found, total = await request.app[LISTEN_IN].log(query.limit, query.offset)
    return items(found, total)


def setup(app: web.Application, listen_in: ListenInService) -> None:
    app[LISTEN_IN] = listen_in
    api.register(app)
