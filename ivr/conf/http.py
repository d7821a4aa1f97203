"""The configuration over HTTP, for the admin page (/admin): findings, the change waiting,
the history, the menu's picture; apply and rollback. Admins only; every apply and rollback
is kept in the history with the admin's name (and logged, refused ones too)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from http_kit.principal import require_role
from http_kit.requests import Body, Query
from http_kit.responses import error_response, json_response
from http_kit.routes import Answer, Routes
from ivr.conf.admin import ConfAdmin
from ivr.conf.apply import ApplyResult
from ivr.conf.store import ConfBusy

CONF = web.AppKey("conf admin", ConfAdmin)
api = Routes()
ADMINS = "only admins change the configuration"


class Finding(BaseModel):
    file: str
    line: int
    message: str


class State(BaseModel):
    live_version: int
    findings: list[Finding] = Field(description="the working copy's problems: none to apply")
    diff: str = Field(description="what applying would change (unified diff); '' for nothing")
    history: list[dict] = Field(description="every version: number, by, at, summary, outcome")


class Result(BaseModel):
    outcome: Literal["applied", "unchanged", "refused", "dry_run", "declined", "rolled_back",
                     "not_running"]
    message: str
    diff: str
    version: int | None
    findings: list[Finding]


class PictureQuery(Query):
    which: Literal["working", "live"] = Field("working", description="the menu being edited, "
                                                                    "or the one callers get")


class ApplyBody(Body):
    dry_run: bool = Field(False, description="check and show, change nothing")


class RollbackBody(Body):
    version: int | None = Field(None, description="default: the one before the live one")


def _admin(request: web.Request) -> str:
    return require_role(request, "admin", why=ADMINS).name


def _result(result: ApplyResult) -> web.Response:
    body = {"outcome": result.outcome, "message": result.message, "diff": result.diff,
            "version": result.version,
            "findings": [{"file": str(f.file), "line": f.line, "message": f.message}
                         for f in result.findings]}
    return json_response(body, status=200 if result.ok else 409)


@api.get("/api/conf", "The configuration: findings, the change waiting, the history",
         answers={200: Answer("the state", State), 403: ADMINS})
async def conf_state(request: web.Request) -> web.Response:
    _admin(request)
    return json_response(await request.app[CONF].state())


@api.get("/api/conf/menu.svg", "The menu as a picture (SVG)", query=PictureQuery,
         answers={200: Answer("the picture", media_type="image/svg+xml"), 403: ADMINS,
                  409: "the menu is too broken to draw: see the findings"})
async def conf_picture(request: web.Request, query: PictureQuery) -> web.Response:
    _admin(request)
    svg = await request.app[CONF].picture(query.which)
    if svg is None:
        return error_response(409, "the menu is too broken to draw: see the findings")
    return web.Response(text=svg, content_type="image/svg+xml")


@api.post("/api/conf/apply", "Apply the working copy (check, scratch load, swap, reload, "
          "verify, roll back on failure)", body=ApplyBody,
          answers={200: Answer("applied, unchanged or dry run", Result), 403: ADMINS,
                   409: "refused (findings), rolled back, or another apply under way"})
async def conf_apply(request: web.Request, body: ApplyBody) -> web.Response:
    by = _admin(request)
    try:
        return _result(await request.app[CONF].apply(by, dry_run=body.dry_run))
    except ConfBusy as exc:
        return error_response(409, str(exc))


@api.post("/api/conf/rollback", "Put an earlier version live again", body=RollbackBody,
          answers={200: Answer("rolled back", Result), 403: ADMINS,
                   409: "no such version, or it failed and the live one stayed"})
async def conf_rollback(request: web.Request, body: RollbackBody) -> web.Response:
    by = _admin(request)
    try:
        return _result(await request.app[CONF].rollback(by, body.version))
    except ConfBusy as exc:
        return error_response(409, str(exc))


def setup(app: web.Application, conf: ConfAdmin) -> None:
    app[CONF] = conf
    api.register(app)
