"""The API described (OpenAPI 3.1), served at /openapi.json. Still kept by hand; to be
generated from the routes' declared request models."""

from typing import Any

from aiohttp import web

from http_kit.principal import PUBLIC_PATHS
from http_kit.responses import json_response

_ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                           "field": {"type": "string"}}}
_CALL = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "caller": {"type": "string"},
        "started": {"type": "string", "format": "date-time"},
        "answered": {"type": ["string", "null"], "format": "date-time"},
        "ended": {"type": ["string", "null"], "format": "date-time"},
        "ivr_path": {"type": "array", "items": {"type": "string"},
                     "description": "the caller's menu choices in order"},
        "request_kind": {"type": ["string", "null"]},
        "route": {"type": ["string", "null"], "enum": ["queue", "emergency", "fallback", None]},
        "queue": {"type": ["string", "null"]},
        "wait_seconds": {"type": ["number", "null"]},
        "seat": {"type": ["string", "null"]},
        "transfers": {"type": "array", "items": {"type": "object"}},
        "outcome": {"type": ["string", "null"],
                    "enum": ["answered", "transferred", "abandoned", "hangup_in_ivr",
                             "emergency_unanswered", None]},
        "recording": {"type": ["string", "null"], "description": "URL of the WAV"},
        "transcript": {"type": ["string", "null"]},
        "ticket_id": {"type": ["integer", "null"]},
    },
}


def _list_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"items": {"type": "array", "items": schema},
                                             "total": {"type": "integer"}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "12345 hotline API", "version": "0.1.0"},
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
        },
        "schemas": {"Call": _CALL, "Error": _ERROR},
    },
    "security": [{"bearer": []}, {"cookie": []}],
    "paths": {
        "/api/health": {"get": {
            "summary": "Is every part up?", "security": [],
            "responses": {"200": _json({"type": "object"}),
                          "503": _json({"type": "object"}, "a part is down")}}},
        "/api/login": {"post": {
            "summary": "Log in; returns a bearer token and sets a session cookie",
            "security": [],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "required": ["user", "password"],
                "properties": {"user": {"type": "string"}, "password": {"type": "string"}}}}}},
            "responses": {"200": _json({"type": "object"}), "401": _json(_ERROR),
                          "422": _json(_ERROR)}}},
        "/api/logout": {"post": {"summary": "End this session",
                                 "responses": {"200": _json({"type": "object"})}}},
        "/api/me": {"get": {"summary": "Who is logged in",
                            "responses": {"200": _json({"type": "object"})}}},
        "/api/calls": {"get": {
            "summary": "Calls, newest first",
            "parameters": [
                {"name": "caller", "in": "query", "schema": {"type": "string"}},
                {"name": "since", "in": "query", "schema": {"type": "string",
                                                            "format": "date-time"}},
                {"name": "active", "in": "query", "schema": {"type": "boolean"}},
                *_PAGING,
            ],
            "responses": {"200": _json(_list_of(_CALL)), "422": _json(_ERROR)}}},
        "/api/calls/{call_id}": {"get": {
            "summary": "One call",
            "parameters": [{"name": "call_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": _json(_CALL), "404": _json(_ERROR)}}},
        "/api/calls/{call_id}/recording": {"get": {
            "summary": "The call's recording (WAV)",
            "parameters": [{"name": "call_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "audio/wav"}, "404": _json(_ERROR)}}},
    },
}


def _ticket_paths() -> dict[str, Any]:
    ticket = {"type": "object", "description": "A ticket (工单); id is its digit-only number",
              "properties": {"id": {"type": "string", "pattern": "^[0-9]+$"},
                             "status": {"type": "string"}, "kind": {"type": "string"},
                             "deadline": {"type": ["string", "null"], "format": "date"},
                             "overdue": {"type": "boolean"},
                             "flags": {"type": "array", "items": {"type": "string"}}}}
    new_ticket = {
        "type": "object", "required": ["phone", "kind", "content"],
        "properties": {
            "phone": {"type": "string"}, "content": {"type": "string", "maxLength": 5000},
            "kind": {"enum": ["consultation", "help", "complaint", "report", "suggestion",
                              "praise"]},
            "name": {"type": "string"}, "address": {"type": "string"},
            "confidential": {"type": "boolean"}, "call_id": {"type": "string"},
            "channel": {"type": "string"}, "category": {"type": "string"},
            "location": {"type": "string"}, "urgency": {"type": "string"},
            "not_accepted_reason": {"type": "string"}, "referral": {"type": "string"},
            "media_exposure": {"type": "boolean"}}}
    ticket_id = {"name": "ticket_id", "in": "path", "required": True,
                 "schema": {"type": "string"}}
    filters = [{"name": n, "in": "query", "schema": {"type": "string"}}
               for n in ("phone", "status", "unit", "kind", "overdue", "supervised", "since",
                         "until")]
    refused = {"409": _json(_ERROR, "the rules forbid this step now"),
               "422": _json(_ERROR, "a field is invalid"), "403": _json(_ERROR),
               "404": _json(_ERROR),
               "503": _json(_ERROR, "the ticket writer is restarting; the change may or may "
                                    "not have been made: look the ticket up before trying "
                                    "again")}
    return {
        "/api/tickets": {
            "get": {"summary": "Search tickets (units: only their own, masked)",
                    "parameters": [*filters, *_PAGING],
                    "responses": {"200": _json(_list_of(ticket))}},
            "post": {"summary": "File a ticket",
                     "requestBody": {"content": {"application/json": {"schema": new_ticket}}},
                     "responses": {"201": _json(ticket), **refused}}},
        "/api/tickets/export": {"get": {
            "summary": "Export as CSV or JSON", "parameters": [
                {"name": "format", "in": "query", "schema": {"enum": ["csv", "json"]}},
                *filters], "responses": {"200": {"description": "text/csv or JSON"}}}},
        "/api/tickets/{ticket_id}": {"get": {"summary": "One ticket", "parameters": [ticket_id],
                                             "responses": {"200": _json(ticket), **refused}}},
        "/api/tickets/{ticket_id}/events": {"get": {
            "summary": "The audit trail", "parameters": [ticket_id],
            "responses": {"200": _json(_list_of({"type": "object"}))}}},
        "/api/tickets/{ticket_id}/{action}": {"post": {
            "summary": "One lifecycle step", "parameters": [ticket_id, {
                "name": "action", "in": "path", "required": True, "schema": {"enum": [
                    "dispatch", "sign", "contact", "return", "extend", "reply", "callback",
                    "redo", "close", "terminate", "archive"]}}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": _json(ticket), **refused}}},
        "/api/units": {"get": {"summary": "Responsible units",
                               "responses": {"200": _json(_list_of({"type": "object"}))}},
                       "post": {"summary": "Add or update a unit (admin)",
                                "responses": {"201": _json({"type": "object"}), **refused}}},
        "/api/outbox": {"get": {"summary": "Downstream deliveries (dead letters by default)",
                                "parameters": [{"name": "state", "in": "query", "schema": {
                                    "enum": ["dead", "pending", "delivered", "all"]}}],
                                "responses": {"200": _json(_list_of({"type": "object"}))}}},
        "/api/outbox/{message_id}/retry": {"post": {
            "summary": "Send a dead letter again (admin)", "parameters": [
                {"name": "message_id", "in": "path", "required": True,
                 "schema": {"type": "integer"}}],
            "responses": {"200": _json({"type": "object"}), "404": _json(_ERROR)}}},
        "/api/reports/measures": {"get": {
            "summary": "First-time resolution, response and satisfaction rates",
            "parameters": [{"name": n, "in": "query", "required": True,
                            "schema": {"type": "string", "format": "date-time"}}
                           for n in ("since", "until")],
            "responses": {"200": _json({"type": "object"})}}},
        "/api/reports/{period}": {"get": {
            "summary": "Weekly, monthly or quarterly report with unit ranking",
            "parameters": [{"name": "period", "in": "path", "required": True,
                            "schema": {"enum": ["weekly", "monthly", "quarterly"]}},
                           {"name": "date", "in": "query", "schema": {"type": "string"}},
                           {"name": "format", "in": "query",
                            "schema": {"enum": ["html", "csv", "json"]}}],
            "responses": {"200": {"description": "HTML, CSV or JSON"}}}},
        "/openapi.json": {"get": {"summary": "This document", "security": [],
                                  "responses": {"200": _json({"type": "object"})}}},
        "/console": {"get": {"summary": "The operator's console (Chinese)", "security": [],
                             "responses": {"200": {"description": "text/html"}}}},
    }


OPENAPI["paths"].update(_ticket_paths())

_SEAT = {"type": "object", "properties": {
    "seat": {"type": "string"}, "name": {"type": ["string", "null"]},
    "state": {"enum": ["ready", "paused", "off"]}, "pause_reason": {"type": ["string", "null"]},
    "night": {"type": "boolean", "description": "a night seat: answers the night queue"},
    "since": {"type": ["string", "null"], "format": "date-time"}}}
_SEAT_PARAM = {"name": "seat", "in": "path", "required": True, "schema": {"type": "string"}}
OPENAPI["paths"].update({
    "/api/seats": {"get": {"summary": "Seats and their queue state",
                           "responses": {"200": _json(_list_of(_SEAT))}}},
    "/api/seats/{seat}/ready": {"post": {
        "summary": "Ready: in the queue, taking calls (own seat, or a supervisor)",
        "parameters": [_SEAT_PARAM],
        "responses": {"200": _json(_SEAT), "403": _json(_ERROR), "404": _json(_ERROR),
                      "503": _json(_ERROR, "the PBX did not take the change")}}},
    "/api/seats/{seat}/pause": {"post": {
        "summary": "Pause with a reason (break, meal, training, after_call, meeting, other)",
        "parameters": [_SEAT_PARAM],
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"reason": {"type": "string"}}}}}},
        "responses": {"200": _json(_SEAT), "403": _json(_ERROR), "404": _json(_ERROR),
                      "422": _json(_ERROR)}}},
})

OPENAPI["paths"]["/ws"] = {"get": {
    "summary": "Websocket (after login; ?token= for browsers): screen pops for the operator's "
               "own seat; every seat's messages for supervisors and admins",
    "description": "Messages: hello, screen_pop (caller, menu path, wait, earlier calls and "
                   "tickets, ticket_draft, console_url), call_answered, ring_stopped, "
                   "call_ended. A reconnecting browser first receives the current state.",
    "responses": {"101": {"description": "switching to websocket"}, "401": _json(_ERROR),
                  "403": _json(_ERROR)}}}

OPENAPI["paths"]["/api/calls/{call_id}/{mode}"] = {"post": {
    "summary": "Supervisor: listen to, whisper to, or barge into a live call; the "
               "supervisor's own seat phone rings",
    "parameters": [{"name": "call_id", "in": "path", "required": True,
                    "schema": {"type": "string"}},
                   {"name": "mode", "in": "path", "required": True,
                    "schema": {"enum": ["listen", "whisper", "barge"]}}],
    "responses": {"201": _json({"type": "object"}), "403": _json(_ERROR),
                  "404": _json(_ERROR), "409": _json(_ERROR),
                  "503": _json(_ERROR, "the PBX did not take the change")}}}
OPENAPI["paths"]["/api/supervision"] = {"get": {
    "summary": "Audit log of listen/whisper/barge: who, when, which call",
    "parameters": _PAGING, "responses": {"200": _json(_list_of({"type": "object"}))}}}

OPENAPI["paths"]["/api/callbacks"] = {"get": {
    "summary": "Callback requests and voice messages, oldest first, each with a ticket draft",
    "parameters": [{"name": "state", "in": "query", "schema": {"enum": ["open", "done", "all"]}},
                   *_PAGING],
    "responses": {"200": _json(_list_of({"type": "object"})), "403": _json(_ERROR)}}}
OPENAPI["paths"]["/api/callbacks/{task_id}/done"] = {"post": {
    "summary": "Mark a callback task done, with a note",
    "parameters": [{"name": "task_id", "in": "path", "required": True,
                    "schema": {"type": "integer"}}],
    "responses": {"200": _json({"type": "object"}), "404": _json(_ERROR)}}}
OPENAPI["paths"]["/api/callbacks/{task_id}/recording"] = {"get": {
    "summary": "The caller's voice message (WAV)",
    "parameters": [{"name": "task_id", "in": "path", "required": True,
                    "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "audio/wav"}, "404": _json(_ERROR)}}}

OPENAPI["paths"]["/api/supervisor/state"] = {"get": {
    "summary": "The live view: queue (waiting, longest wait, service level, abandonment), "
               "seats (state, current call, time in state), calls in progress",
    "responses": {"200": _json({"type": "object"}), "403": _json(_ERROR)}}}
OPENAPI["paths"]["/supervisor"] = {"get": {
    "summary": "The supervisor's live page (Chinese)", "security": [],
    "responses": {"200": {"description": "text/html"}}}}

OPENAPI["paths"]["/static"] = {"get": {
    "summary": "The pages' shared script and assets (/static/session.js)", "security": [],
    "responses": {"200": {"description": "a static file"}}}}

OPENAPI["paths"]["/api/seats/{seat}/logout"] = {"post": {
    "summary": "Sign out (签出): the seat leaves the queue until it is made ready again",
    "parameters": [_SEAT_PARAM],
    "responses": {"200": _json(_SEAT), "403": _json(_ERROR), "404": _json(_ERROR)}}}

_SCHEDULE = {"type": "object", "properties": {
    "always_staffed": {"type": "boolean", "description": "7×24 with the day seats"},
    "workday_hours": {"type": "array", "items": {"type": "string", "example": "08:30-12:00"},
                      "description": "staffed spans on China's working days (调休 included)"},
    "restday_hours": {"type": "array", "items": {"type": "string"},
                      "description": "staffed spans on weekends and public holidays"},
    "closed_dates": {"type": "array", "items": {"type": "string", "format": "date"},
                     "description": "local days off, treated as rest days"},
    "override": {"enum": ["", "staffed", "night"],
                 "description": "a supervisor's decision until cleared"}}}
_STAFFING = {"type": "object", "properties": {
    "staffed": {"type": "boolean", "description": "the day seats answer now"},
    "mode_label": {"type": "string"}, "schedule": _SCHEDULE, "file": {"type": "string"}}}
OPENAPI["paths"]["/api/schedule"] = {
    "get": {"summary": "Staffed hours and whether the line is staffed now (else night mode: "
                       "night seats, or a message when none is signed in)",
            "responses": {"200": _json(_STAFFING), "403": _json(_ERROR)}},
    "put": {"summary": "Supervisor or admin: replace the staffed hours; applied to the PBX at "
                       "once and written to the schedule file",
            "requestBody": {"content": {"application/json": {"schema": _SCHEDULE}}},
            "responses": {"200": _json(_STAFFING), "403": _json(_ERROR),
                          "422": _json(_ERROR, "names the bad field")}}}


async def openapi(_request: web.Request) -> web.Response:
    return json_response(OPENAPI)


def setup(app: web.Application) -> None:
    app[PUBLIC_PATHS].add("/openapi.json")
    app.router.add_get("/openapi.json", openapi)
