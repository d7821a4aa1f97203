"""The benchmark's own HTTP client (bench/http_load.py) against a real aiohttp server: the
ticket benchmark's numbers are only as good as its reading of the answers."""

import asyncio

import pytest
from aiohttp import web

from bench.http_load import connect, header_block


@pytest.fixture
async def server():
    async def echo(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        return web.json_response({"auth": request.headers.get("Authorization"),
                                  "body": body, "path": request.path},
                                 status=201 if request.method == "POST" else 200)

    async def big(_request: web.Request) -> web.Response:
        return web.json_response({"text": "工单" * 50_000})  # arrives in many pieces

    async def hang_up(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(1)
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/big", big)
    app.router.add_get("/hang-up", hang_up)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield port
    await runner.cleanup()


async def test_requests_on_one_connection_come_back_in_order(server):
    conn = await connect("127.0.0.1", server)
    headers = header_block("127.0.0.1", server, "t0ken")
    for i in range(3):
        status, data = await conn.request("POST", "/echo", headers, {"n": i, "text": "道路"})
        assert status == 201
        assert data == {"auth": "Bearer t0ken", "body": {"n": i, "text": "道路"},
                        "path": "/echo"}
    status, data = await conn.request("GET", "/echo", headers)
    assert (status, data["body"]) == (200, None)
    status, data = await conn.request("GET", "/big", headers)
    assert status == 200 and data["text"] == "工单" * 50_000
    conn.close()


async def test_a_closed_connection_raises_instead_of_waiting_forever(server):
    conn = await connect("127.0.0.1", server)
    headers = header_block("127.0.0.1", server, "t")
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(conn.request("GET", "/hang-up", headers), 5)
    with pytest.raises(ConnectionError):
        await conn.request("GET", "/echo", headers)
