"""GET /api/health: 200 when everything is up, 503 naming what is not (no login needed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from http_kit.principal import PUBLIC_PATHS
from http_kit.responses import json_response

HealthCheck = Callable[[], Awaitable[dict[str, str]]]
HEALTH = web.AppKey("health check", HealthCheck)


async def health(request: web.Request) -> web.Response:
    state = await request.app[HEALTH]()
    healthy = all(value == "up" for value in state.values())
    return json_response(state, status=200 if healthy else 503)


def setup(app: web.Application, check: HealthCheck) -> None:
    app[HEALTH] = check
    app[PUBLIC_PATHS].add("/api/health")
    app.router.add_get("/api/health", health)
