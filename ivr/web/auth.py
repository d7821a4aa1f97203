"""Logging in and out: the session cookie and bearer token, and who is asking."""

from __future__ import annotations

from aiohttp import web

from http_kit.principal import PRINCIPAL, PUBLIC_PATHS
from http_kit.requests import json_object, string_field
from http_kit.responses import error_response, json_response
from ivr.accounts.service import Accounts, LoginFailed

SESSION_COOKIE = "hotline_session"
ACCOUNTS = web.AppKey("accounts", Accounts)


def token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    if request.path == "/ws" and request.query.get("token"):
        return request.query["token"]  # browsers cannot set headers on a websocket
    return request.cookies.get(SESSION_COOKIE)


async def login(request: web.Request) -> web.Response:
    body = await json_object(request)
    name = string_field(body, "user", max_length=64)
    password = string_field(body, "password", max_length=256)
    try:
        token, principal = await request.app[ACCOUNTS].login(name, password)
    except LoginFailed as exc:
        return error_response(401, str(exc))
    response = json_response({"token": token, "user": principal.name,
                              "role": principal.role, "seat": principal.seat,
                              "unit": principal.unit})
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict",
                        max_age=12 * 3600)
    return response


async def logout(request: web.Request) -> web.Response:
    token = token_of(request)
    if token:
        await request.app[ACCOUNTS].logout(token)
    response = json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE)
    return response


async def whoami(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    return json_response({"user": principal.name, "role": principal.role,
                          "seat": principal.seat, "unit": principal.unit})


def setup(app: web.Application, accounts: Accounts) -> None:
    app[ACCOUNTS] = accounts
    app[PUBLIC_PATHS].add("/api/login")
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", whoami)
