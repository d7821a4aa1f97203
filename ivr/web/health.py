"""GET /api/health: 200 when everything is up, 503 naming what is not (no login needed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from http_kit.responses import json_response
from http_kit.routes import Answer, Routes

HealthCheck = Callable[[], Awaitable[dict[str, str]]]
HEALTH = web.AppKey("health check", HealthCheck)
api = Routes()


@api.get("/api/health", "Is every part up?", public=True, answers={
    200: Answer("every part is up: {\"asterisk\": \"up\", \"ami\": \"up\", ...}"),
    503: Answer("a part is down (or restoring, or loading): the same object, naming it")})
async def health(request: web.Request) -> web.Response:
    state = await request.app[HEALTH]()
    # "off": a part switched off by configuration (speech without a model) is not down.
    healthy = all(value in ("up", "off") for value in state.values())
    return json_response(state, status=200 if healthy else 503)


def setup(app: web.Application, check: HealthCheck) -> None:
    app[HEALTH] = check
    api.register(app)
