"""Call records over HTTP: search, one call, its recording."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from http_kit.requests import Instant, Paging
from http_kit.responses import Page, items, json_response, recording
from http_kit.routes import Answer, Routes
from ivr.calls.call_log import CallLog, call_view

CALLS = web.AppKey("calls", CallLog)
api = Routes()
Moment = str | None  # ISO 8601 with zone, or null while it has not happened


class Call(BaseModel):
    """A call record as the API answers it (ivr/calls/call_log.py call_view)."""

    id: str
    caller: str
    started: str = Field(description="ISO 8601")
    answered: Moment
    ended: Moment
    ivr_path: list[str] = Field(description="the caller's menu choices in order")
    request_kind: str | None
    route: str | None = Field(description="queue, emergency, fallback, callback, message...")
    queue: str | None
    wait_seconds: float | None
    seat: str | None
    transfers: list[dict[str, Any]]
    outcome: Literal["answered", "transferred", "abandoned", "hangup_in_ivr",
                     "emergency_unanswered", "callback_requested", "message_left"] | None
    hangup_cause: str | None
    recording: str | None = Field(description="URL of the WAV")
    transcript: str | None
    ticket_id: str | None = Field(description="the ticket filed from this call (its number)")


class CallQuery(Paging):
    caller: str | None = Field(None, description="the caller's number")
    since: Instant | None = Field(None, description="calls started at or after")
    active: bool | None = Field(None, description="only calls in progress (or only ended)")


class CallPath(BaseModel):
    call_id: str


@api.get("/api/calls", "Calls, newest first", query=CallQuery,
            answers={200: Answer("a page of calls", Page[Call])})
async def list_calls(request: web.Request, query: CallQuery) -> web.Response:
    found, total = await request.app[CALLS].search(
        caller=query.caller, since=query.since, active=query.active,
        limit=query.limit, offset=query.offset)
    return items([call_view(c) for c in found], total)


@api.get("/api/calls/{call_id}", "One call", path_model=CallPath,
            answers={200: Answer("the call", Call), 404: "no such call"})
async def get_call(request: web.Request, path: CallPath) -> web.Response:
    return json_response(call_view(await request.app[CALLS].get(path.call_id)))


@api.get("/api/calls/{call_id}/recording", "The call's recording (WAV)",
            path_model=CallPath, answers={200: Answer("the recording", media_type="audio/wav"),
                                          404: "no such call, or no recording (yet)"})
async def get_recording(request: web.Request, path: CallPath) -> web.StreamResponse:
    call = await request.app[CALLS].get(path.call_id)
    return await recording(call.recording, f"call {call.id} has no recording (yet)")


def setup(app: web.Application, calls: CallLog) -> None:
    app[CALLS] = calls
    api.register(app)
