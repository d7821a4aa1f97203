"""The FastAGI layer against scripted peers on loopback: what Asterisk sends, and worse."""

import asyncio
import time

import pytest

from ivr.errors import AgiError, ChannelHungUp
from ivr.telephony.agi_server import AgiChannel, FastAgiServer, parse_reply
from tests.support.sipp import free_tcp_port

HEADERS = (b"agi_network: yes\nagi_network_script: main_menu\nagi_request: agi://x/main_menu\n"
           b"agi_channel: PJSIP/trunk-1\nagi_uniqueid: 1700000000.1\n"
           b"agi_callerid: 13800000000\n\n")


def test_reply_parsing():
    assert parse_reply("200 result=49 endpos=1234").result == "49"
    reply = parse_reply("200 result= (timeout)")
    assert (reply.result, reply.timed_out) == ("", True)
    assert parse_reply("200 result=1 (Alice)").data == "Alice"
    assert parse_reply("511 result=-1 Command Not Permitted on a dead channel").code == 511
    with pytest.raises(AgiError):
        parse_reply("hello")


@pytest.fixture
async def server():
    calls: list[AgiChannel] = []
    done = asyncio.Event()
    behaviour: dict = {}

    async def route(channel: AgiChannel) -> None:
        calls.append(channel)
        try:
            await behaviour["script"](channel)
        finally:
            done.set()

    port = free_tcp_port()
    srv = FastAgiServer({"main_menu": route}, "127.0.0.1", port)
    await srv.start()
    yield port, calls, done, behaviour, srv
    await srv.stop()


async def test_a_normal_exchange(server):
    port, calls, done, behaviour, _ = server
    results = {}

    async def script(channel: AgiChannel) -> None:
        results["keys"] = await channel.get_data("/sounds/main_menu", 5000, 1)
        await channel.set_variable("HOTLINE_ROUTE", 'say "hi"')

    behaviour["script"] = script
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    assert await reader.readline() == b"GET DATA /sounds/main_menu 5000 1\n"
    writer.write(b"200 result=3\n")
    assert await reader.readline() == b'SET VARIABLE HOTLINE_ROUTE "say \\"hi\\""\n'
    writer.write(b"200 result=1\n")
    await asyncio.wait_for(done.wait(), 2)
    assert results["keys"] == "3"
    assert calls[0].request.caller == "13800000000"
    assert calls[0].request.unique_id == "1700000000.1"
    writer.close()


async def test_hangup_mid_command_stops_the_script(server):
    port, _calls, done, behaviour, _ = server
    raised = {}

    async def script(channel: AgiChannel) -> None:
        try:
            await channel.stream_file("/sounds/welcome")
        except ChannelHungUp:
            raised["hungup"] = True
            raise

    behaviour["script"] = script
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    await reader.readline()
    writer.write(b"HANGUP\n200 result=-1 endpos=0\n")
    await asyncio.wait_for(done.wait(), 2)
    assert raised == {"hungup": True}
    assert await asyncio.wait_for(reader.read(), 2) == b"", "server must close the socket"


async def test_peer_vanishing_mid_command_is_a_hangup(server):
    port, _calls, done, behaviour, _ = server
    raised = {}

    async def script(channel: AgiChannel) -> None:
        try:
            await channel.get_data("/sounds/main_menu", 5000, 1)
        except ChannelHungUp:
            raised["hungup"] = True
            raise

    behaviour["script"] = script
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    await reader.readline()
    writer.close()
    await asyncio.wait_for(done.wait(), 2)
    assert raised == {"hungup": True}


async def test_a_silent_peer_times_out_instead_of_hanging(server, monkeypatch):
    port, _calls, done, behaviour, _ = server
    raised = {}

    async def script(channel: AgiChannel) -> None:
        try:
            await channel.execute("ANSWER", timeout=0.3)
        except AgiError as exc:
            raised["error"] = str(exc)
            raise

    behaviour["script"] = script
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    await asyncio.wait_for(done.wait(), 3)
    assert "no reply to ANSWER" in raised["error"]
    writer.close()


@pytest.mark.parametrize("payload", [
    b"",                                   # a bare TCP probe
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # the wrong protocol
    bytes(range(256)) * 4,                 # binary garbage
    b"agi_network: yes\n",                 # headers cut short
    b"agi_network_script: main_menu\n" + b"x" * 20000 + b"\n\n",  # an absurd line
])
async def test_garbage_never_reaches_a_route_nor_spins(server, payload):
    port, calls, _done, _behaviour, srv = server
    cpu_before = time.process_time()
    for _ in range(20):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if payload:
            writer.write(payload)
        writer.close()
    await asyncio.sleep(0.5)
    assert calls == []
    assert srv.serving
    assert srv.active_calls == 0, "every malformed connection must be let go"
    assert time.process_time() - cpu_before < 0.4, "the server burned CPU on closed peers"


async def test_a_crashing_route_closes_the_call_and_the_server_keeps_serving(server):
    port, _calls, done, behaviour, srv = server

    async def script(channel: AgiChannel) -> None:
        raise ValueError("bug")

    behaviour["script"] = script
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    await asyncio.wait_for(done.wait(), 2)
    assert await asyncio.wait_for(reader.read(), 2) == b""
    assert srv.serving
    writer.close()


async def test_unknown_route_is_closed_without_commands(server):
    port, calls, _done, _behaviour, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS.replace(b"agi_network_script: main_menu", b"agi_network_script: nope"))
    assert await asyncio.wait_for(reader.read(), 2) == b""
    assert calls == []
    writer.close()
