"""The pages people open in a browser: the operator's console and the supervisor's live
view (each logs in with /api/login from its own script, so the HTML itself is public)."""

from __future__ import annotations

from aiohttp import web

from http_kit.principal import PUBLIC_PATHS
from ivr.web.app import STATIC_DIR

PAGES = {"/console": "console.html", "/supervisor": "supervisor.html"}


def setup(app: web.Application) -> None:
    for path, name in PAGES.items():
        page = STATIC_DIR / name

        async def serve(_request: web.Request, page=page) -> web.FileResponse:
            return web.FileResponse(page)

        app[PUBLIC_PATHS].add(path)
        app.router.add_get(path, serve)
