"""The supervisor's live view as JSON (the page itself is ivr/web/static/supervisor.html)."""

from __future__ import annotations

from aiohttp import web

from http_kit.principal import require_role
from http_kit.responses import json_response
from http_kit.routes import Answer, Routes
from ivr.live_view.service import LiveView

LIVE_VIEW = web.AppKey("live view", LiveView)
api = Routes()


@api.get("/api/supervisor/state",
            "The live view: queue (waiting, longest wait, service level, abandonment), seats "
            "(state, current call, time in state), calls in progress",
            answers={200: Answer("the snapshot"), 403: "only supervisors"})
async def supervisor_state(request: web.Request) -> web.Response:
    require_role(request, "supervisor", "admin", why="the live view is for supervisors")
    return json_response(await request.app[LIVE_VIEW].snapshot())


def setup(app: web.Application, view: LiveView) -> None:
    app[LIVE_VIEW] = view
    api.register(app)
