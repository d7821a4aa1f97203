"""The pages people open in a browser: the operator's console, the supervisor's live
view and the telephony admin's page (each logs in with /api/login from its own script, so
the HTML itself is public)."""

from __future__ import annotations

from aiohttp import web

from http_kit.routes import Answer, Routes
from ivr.web.app import STATIC_DIR

api = Routes()
HTML = {200: Answer("the page", media_type="text/html")}


@api.get("/console", "The operator's console (Chinese); ?phone=&call_id=&kind= prefill it",
            public=True, answers=HTML)
async def console(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "console.html")


@api.get("/supervisor", "The supervisor's live page (Chinese)", public=True, answers=HTML)
async def supervisor(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "supervisor.html")


@api.get("/admin", "The telephony admin's page (Chinese): the menu's picture, the check's "
            "findings, the change waiting, apply and rollback", public=True, answers=HTML)
async def admin(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "admin.html")


def setup(app: web.Application) -> None:
    api.register(app)
