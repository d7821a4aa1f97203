"""The staffed hours (受理时间) and night mode over HTTP."""

from __future__ import annotations

from aiohttp import web

from http_kit.principal import require_role
from http_kit.requests import json_object
from http_kit.responses import json_response
from ivr.schedule.staffing import Staffing

STAFFING = web.AppKey("staffing", Staffing)


async def get_schedule(request: web.Request) -> web.Response:
    require_role(request, "operator", "supervisor", "admin")
    return json_response(request.app[STAFFING].view())


async def put_schedule(request: web.Request) -> web.Response:
    # Supervisors too: the shift leader (值班长) calls all hands in a typhoon, or night mode
    # early, through `override`, without waiting for an admin.
    require_role(request, "supervisor", "admin")
    return json_response(await request.app[STAFFING].update(await json_object(request)))


def setup(app: web.Application, staffing: Staffing) -> None:
    app[STAFFING] = staffing
    app.router.add_get("/api/schedule", get_schedule)
    app.router.add_put("/api/schedule", put_schedule)
