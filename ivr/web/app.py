"""The aiohttp application: one factory, the login check, and the one mapping from errors
to answers (by the status each error class declares, see http_kit/errors.py). Routes come
from the slices, each registering its own; the composition root (ivr/main/web_app.py) says which."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from http_kit.errors import http_answer
from http_kit.principal import PRINCIPAL, PUBLIC_PATHS
from http_kit.requests import MAX_BODY
from http_kit.responses import error_response
from ivr.log_format import call_context
from ivr.web.auth import ACCOUNTS, token_of

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")

RouteSetup = Callable[[web.Application], None]


@web.middleware
async def call_in_logs(request: web.Request,
                       handler: Callable[..., Any]) -> web.StreamResponse:
    """A request naming a call in its path ({call_id}: a transfer, a listen-in, the record)
    is work about that call: what it logs carries the call's id (ivr/log_format.py)."""
    with call_context(request.match_info.get("call_id")):
        return await handler(request)


@web.middleware
async def errors_and_login(request: web.Request,
                           handler: Callable[..., Any]) -> web.StreamResponse:
    try:
        if (request.path not in request.app[PUBLIC_PATHS]
                and not request.path.startswith("/static/")):
            token = token_of(request)
            principal = await request.app[ACCOUNTS].authenticate(token) if token else None
            if principal is None:
                return error_response(401, "login required")
            request[PRINCIPAL] = principal
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        answer = http_answer(exc)
        if answer is not None:
            return error_response(*answer)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error")


def build_app(setups: Iterable[RouteSetup]) -> web.Application:
    """The web app with the routes of each slice given (each a `setup(app)`)."""
    app = web.Application(middlewares=[call_in_logs, errors_and_login],
                          client_max_size=MAX_BODY)
    app[PUBLIC_PATHS] = set()
    for setup in setups:
        setup(app)
    app.router.add_static("/static/", STATIC_DIR)
    return app
