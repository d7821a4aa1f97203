"""Seats over HTTP: the list, and an operator's ready / pause / sign-out (签出)."""

from __future__ import annotations

from aiohttp import web

from http_kit.errors import Forbidden, RequestInvalid
from http_kit.principal import PRINCIPAL
from http_kit.requests import optional_json_object
from http_kit.responses import items, json_response
from ivr.seats.service import SeatService

SEATS = web.AppKey("seats", SeatService)


def _own_seat_or_supervisor(request: web.Request) -> str:
    seat = request.match_info["seat"]
    principal = request[PRINCIPAL]
    if principal.role in ("supervisor", "admin") or principal.seat == seat:
        return seat
    raise Forbidden("operators change only their own seat")


async def list_seats(request: web.Request) -> web.Response:
    return items(await request.app[SEATS].list())


async def seat_ready(request: web.Request) -> web.Response:
    seat = _own_seat_or_supervisor(request)
    return json_response(await request.app[SEATS].set_state(seat, paused=False))


async def seat_sign_out(request: web.Request) -> web.Response:
    seat = _own_seat_or_supervisor(request)
    return json_response(await request.app[SEATS].sign_out(seat))


async def seat_pause(request: web.Request) -> web.Response:
    seat = _own_seat_or_supervisor(request)
    reason = (await optional_json_object(request)).get("reason")
    if reason is not None and not isinstance(reason, str):
        raise RequestInvalid("reason", "reason must be a string")
    return json_response(await request.app[SEATS].set_state(seat, paused=True, reason=reason))


def setup(app: web.Application, seats: SeatService) -> None:
    app[SEATS] = seats
    app.router.add_get("/api/seats", list_seats)
    app.router.add_post("/api/seats/{seat}/ready", seat_ready)
    app.router.add_post("/api/seats/{seat}/pause", seat_pause)
    app.router.add_post("/api/seats/{seat}/logout", seat_sign_out)
