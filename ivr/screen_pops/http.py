"""The live websocket (/ws): screen pops for an operator's own seat, every seat's messages
for supervisors and admins. Sockets still open at shutdown are closed."""

from __future__ import annotations

import asyncio

from aiohttp import web

from http_kit.errors import Forbidden
from http_kit.principal import PRINCIPAL
from http_kit.responses import safe_dumps
from http_kit.routes import Answer, Routes
from ivr.screen_pops.service import ALL_SEATS, ScreenPops
from store.tasks import cancel_and_wait

POPS = web.AppKey("screen pops", ScreenPops)
SOCKETS = web.AppKey("websockets", set[web.WebSocketResponse])
api = Routes()


@api.get("/ws", "Websocket (after login; ?token= for browsers): screen pops for the "
            "operator's own seat; every seat's messages for supervisors and admins",
            description="Messages: hello, screen_pop (caller, menu path, wait, earlier calls "
                        "and tickets, ticket_draft, console_url), call_answered, ring_stopped, "
                        "call_ended. A reconnecting browser first receives the current state.",
            answers={101: Answer("switching to the websocket", media_type=None),
                     400: Answer("not a websocket upgrade", media_type="text/plain"),
                     403: "for operators with a seat, and supervisors"})

async def websocket(request: web.Request) -> web.WebSocketResponse:
    principal = request[PRINCIPAL]
    if principal.role in ("supervisor", "admin"):
        channel = ALL_SEATS
    elif principal.role == "operator" and principal.seat:
        channel = principal.seat
    else:
        raise Forbidden("screen pops are for operators with a seat, and supervisors")
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    pops = request.app[POPS]
    queue = pops.subscribe(channel)
    request.app[SOCKETS].add(ws)

    async def forward() -> None:
        while True:
            await ws.send_json(await queue.get(), dumps=safe_dumps)

    sender = asyncio.create_task(forward())
    try:
        await ws.send_json({"type": "hello", "user": principal.name, "seat": principal.seat,
                            "role": principal.role}, dumps=safe_dumps)
        async for _message in ws:  # nothing to read; this keeps the socket open
            pass
    finally:
        await cancel_and_wait(sender)
        pops.unsubscribe(channel, queue)
        request.app[SOCKETS].discard(ws)
    return ws


async def _close_websockets(app: web.Application) -> None:
    for ws in set(app[SOCKETS]):
        await ws.close(code=1001, message=b"hotline stopping")


def setup(app: web.Application, pops: ScreenPops) -> None:
    app[POPS] = pops
    app[SOCKETS] = set()
    api.register(app)
    app.on_shutdown.append(_close_websockets)
