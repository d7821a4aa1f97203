"""Transfers over HTTP: an operator on an answered call transfers it, consults or opens a
three-way call with a unit (or an emergency service), completes, cancels or leaves."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from http_kit.errors import RequestInvalid
from http_kit.principal import PRINCIPAL
from http_kit.requests import Body
from http_kit.responses import json_response
from http_kit.routes import Answer, Routes
from ivr.transfers.legs import Mode
from ivr.transfers.service import TransferService

TRANSFERS = web.AppKey("transfers", TransferService)
api = Routes()


class CallPath(BaseModel):
    call_id: str


class TransferRequest(Body):
    unit: str | None = Field(None, min_length=1, max_length=32,
                             description="the unit's code (GET /api/units)")
    number: Literal["110", "119", "120", "122"] | None = Field(
        None, description="an emergency service instead of a unit (联动转接)")
    mode: Mode | None = Field(None, description=(
        "blind: the caller goes to the unit; consult: talk to the unit first, the caller "
        "holding; conference: a three-way call. Default: blind for a unit, conference for "
        "an emergency service (the operator stays on until it has the facts)"))


class TransferLeg(BaseModel):
    """A transfer leg, as in the call record's transfers (and the websocket's frames)."""

    leg: str
    mode: Mode
    unit: str | None
    unit_name: str | None = Field(None, description="the unit's name, for the pages")
    number: str
    requested: str
    answered: str | None
    ended: str | None
    outcome: Literal["answered", "busy", "no_answer", "rejected", "failed",
                     "cancelled"] | None
    handed_over: bool = Field(description="the unit has the caller without the operator")


_REFUSED = {404: "no such call or unit",
            409: "not your seat's live call, a transfer already under way, the unit has "
                 "no usable number now, or this step does not fit the transfer",
            503: "the PBX did not take the request"}


@api.post("/api/calls/{call_id}/transfer", "Transfer, consult or three-way call to a unit",
          path_model=CallPath, body=TransferRequest,
          answers={202: Answer("the leg is ringing", TransferLeg), 422: "a bad field",
                   **_REFUSED})
async def transfer(request: web.Request, path: CallPath, body: TransferRequest
                   ) -> web.Response:
    if (body.unit is None) == (body.number is None):
        raise RequestInvalid("unit", "unit: give either unit (a unit's code) or number "
                             "(110, 119, 120 or 122), not both")
    mode: Mode = body.mode or ("blind" if body.unit else "conference")
    leg = await request.app[TRANSFERS].request(
        path.call_id, request[PRINCIPAL].seat, mode, unit=body.unit, number=body.number)
    return json_response(leg, status=202)


CLICK_ROUTES = {
    "complete": ("/api/calls/{call_id}/transfer/complete",
                 "Consult: connect the caller and the unit; the operator drops out"),
    "cancel": ("/api/calls/{call_id}/transfer/cancel",
               "Consult or ringing three-way call: hang up the unit, back to the caller"),
    "leave": ("/api/calls/{call_id}/leave",
              "Three-way call: the operator leaves; the caller and the unit talk on"),
}


def _click(step: str) -> Any:
    """The handler of one of the operator's steps on an open leg."""
    async def transfer_step(request: web.Request, path: CallPath) -> web.Response:
        return json_response(await request.app[TRANSFERS].click(
            path.call_id, request[PRINCIPAL].seat, step))
    return transfer_step


for _step, (_path, _summary) in CLICK_ROUTES.items():
    api.post(_path, _summary, path_model=CallPath,
             answers={200: Answer("the leg", TransferLeg), **_REFUSED})(_click(_step))


def setup(app: web.Application, transfers: TransferService) -> None:
    app[TRANSFERS] = transfers
    api.register(app)
