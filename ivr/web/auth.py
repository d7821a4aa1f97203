"""Logging in and out: the session cookie and bearer token, and who is asking."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from http_kit.principal import PRINCIPAL
from http_kit.requests import Body
from http_kit.responses import error_response, json_response
from http_kit.routes import Answer, Routes
from ivr.accounts.service import Accounts, LoginFailed

SESSION_COOKIE = "hotline_session"
ACCOUNTS = web.AppKey("accounts", Accounts)
api = Routes()


def token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    if request.path == "/ws" and request.query.get("token"):
        return request.query["token"]  # browsers cannot set headers on a websocket
    return request.cookies.get(SESSION_COOKIE)


class Login(Body):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    user: str
    role: str = Field(description="operator, supervisor, admin or unit")
    seat: str | None
    unit: str | None


class Session(Me):
    token: str = Field(description="send as `Authorization: Bearer TOKEN`")


class Ok(BaseModel):
    ok: bool


@api.post("/api/login", "Log in; returns a bearer token and sets a session cookie",
             body=Login, public=True,
             answers={200: Answer("logged in", Session), 401: "wrong user or password"})
async def login(request: web.Request, body: Login) -> web.Response:
    try:
        token, principal = await request.app[ACCOUNTS].login(body.user, body.password)
    except LoginFailed as exc:
        return error_response(401, str(exc))
    response = json_response({"token": token, "user": principal.name,
                              "role": principal.role, "seat": principal.seat,
                              "unit": principal.unit})
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict",
                        max_age=12 * 3600)
    return response


@api.post("/api/logout", "End this session", answers={200: Answer("logged out", Ok)})
async def logout(request: web.Request) -> web.Response:
    token = token_of(request)
    if token:
        await request.app[ACCOUNTS].logout(token)
    response = json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE)
    return response


@api.get("/api/me", "Who is logged in", answers={200: Answer("the user", Me)})
async def whoami(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    return json_response({"user": principal.name, "role": principal.role,
                          "seat": principal.seat, "unit": principal.unit})


def setup(app: web.Application, accounts: Accounts) -> None:
    app[ACCOUNTS] = accounts
    api.register(app)
