"""Call records over HTTP: search, one call, its recording."""

from __future__ import annotations

from aiohttp import web

from http_kit.requests import bool_param, datetime_param, paging
from http_kit.responses import items, json_response, recording
from ivr.calls.call_log import CallLog, call_view

CALLS = web.AppKey("calls", CallLog)


async def list_calls(request: web.Request) -> web.Response:
    limit, offset = paging(request)
    found, total = await request.app[CALLS].search(
        caller=request.query.get("caller") or None,
        since=datetime_param(request, "since"),
        active=bool_param(request, "active"),
        limit=limit, offset=offset,
    )
    return items([call_view(c) for c in found], total)


async def get_call(request: web.Request) -> web.Response:
    call = await request.app[CALLS].get(request.match_info["call_id"])
    return json_response(call_view(call))


async def get_recording(request: web.Request) -> web.StreamResponse:
    call = await request.app[CALLS].get(request.match_info["call_id"])
    return await recording(call.recording, f"call {call.id} has no recording (yet)")


def setup(app: web.Application, calls: CallLog) -> None:
    app[CALLS] = calls
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    app.router.add_get("/api/calls/{call_id}/recording", get_recording)
