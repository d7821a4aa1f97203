"""Seats over HTTP: the list, and an operator's ready / pause / sign-out (签出)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from http_kit.errors import Forbidden
from http_kit.principal import PRINCIPAL
from http_kit.requests import Body
from http_kit.responses import Page, items, json_response
from http_kit.routes import Answer, Routes
from ivr.seats.service import PAUSE_REASONS, SeatService

SEATS = web.AppKey("seats", SeatService)
api = Routes()


class Seat(BaseModel):
    seat: str
    name: str | None
    state: Literal["ready", "paused", "off"]
    night: bool = Field(description="a night seat: answers the night queue")
    pause_reason: str | None
    since: str | None = Field(description="ISO 8601: when the state last changed")


class SeatPath(BaseModel):
    seat: str


class Pause(Body):
    # Documents the choices; the seat service checks them (one place for the rule).
    reason: str | None = Field(None, description=f"one of {', '.join(PAUSE_REASONS)}")


CHANGED = {200: Answer("the seat now", Seat),
           403: "operators change only their own seat", 404: "no such seat",
           503: "the PBX did not take the change"}


def _own_seat_or_supervisor(request: web.Request, seat: str) -> str:
    principal = request[PRINCIPAL]
    if principal.role in ("supervisor", "admin") or principal.seat == seat:
        return seat
    raise Forbidden("operators change only their own seat")


@api.get("/api/seats", "Seats and their queue state",
            answers={200: Answer("every seat", Page[Seat])})
async def list_seats(request: web.Request) -> web.Response:
    return items(await request.app[SEATS].list())


@api.post("/api/seats/{seat}/ready",
             "Ready: in the queue, taking calls (own seat, or a supervisor)",
             path_model=SeatPath, answers=CHANGED)
async def seat_ready(request: web.Request, path: SeatPath) -> web.Response:
    seat = _own_seat_or_supervisor(request, path.seat)
    return json_response(await request.app[SEATS].set_state(seat, paused=False))


@api.post("/api/seats/{seat}/logout",
             "Sign out (签出): the seat leaves the queue until it is made ready again",
             path_model=SeatPath, answers=CHANGED)
async def seat_sign_out(request: web.Request, path: SeatPath) -> web.Response:
    seat = _own_seat_or_supervisor(request, path.seat)
    return json_response(await request.app[SEATS].sign_out(seat))


@api.post("/api/seats/{seat}/pause", "Pause, with a reason", path_model=SeatPath,
             body=Pause, answers=CHANGED)
async def seat_pause(request: web.Request, path: SeatPath, body: Pause) -> web.Response:
    seat = _own_seat_or_supervisor(request, path.seat)
    return json_response(await request.app[SEATS].set_state(seat, paused=True,
                                                            reason=body.reason))


def setup(app: web.Application, seats: SeatService) -> None:
    app[SEATS] = seats
    api.register(app)
