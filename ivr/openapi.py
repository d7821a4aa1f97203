"""The API described (OpenAPI 3.1), served at /openapi.json. Kept beside the routes in web.py."""

from typing import Any

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
