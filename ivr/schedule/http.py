"""Routes for running the line: the staffed hours (受理时间) and night mode."""

from __future__ import annotations

from aiohttp import web

from ivr.errors import NotFound
from ivr.schedule.staffing import Staffing
from ivr.web.app import SERVICES, json_object, json_response, require_role


def _staffing(request: web.Request) -> Staffing:
    staffing = request.app[SERVICES].staffing
    if staffing is None:
        raise NotFound("this service runs no PBX, so it has no staffed hours")
    return staffing


async def get_schedule(request: web.Request) -> web.Response:
    require_role(request, "operator", "supervisor", "admin")
    return json_response(_staffing(request).view())


async def put_schedule(request: web.Request) -> web.Response:
    # Supervisors too: the shift leader (值班长) calls all hands in a typhoon, or night mode
    # early, through `override`, without waiting for an admin.
    require_role(request, "supervisor", "admin")
    return json_response(await _staffing(request).update(await json_object(request)))


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get("/api/schedule", get_schedule)
    app.router.add_put("/api/schedule", put_schedule)
