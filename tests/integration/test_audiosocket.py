"""The AudioSocket server on a real loopback socket: streams that identify themselves get
their audio through in order; anything else closes that connection only."""

import asyncio
import uuid

import pytest

from ivr.telephony import audiosocket
from ivr.telephony.audiosocket import AudioSink, AudioSocketServer, frame

KNOWN = str(uuid.uuid4())


class Collect(AudioSink):
    def __init__(self):
        self.pieces, self.done = [], asyncio.Event()

    async def audio(self, pcm, rate):
        self.pieces.append((len(pcm), rate))

    async def ended(self):
        self.done.set()


@pytest.fixture
async def server():
    sinks = {KNOWN: Collect()}

    async def claim(stream_id):
        return sinks.get(stream_id)

    server = AudioSocketServer(claim, "127.0.0.1", 0)
    await server.start()
    yield server, sinks[KNOWN]
    await server.stop()


async def connect(server):
    return await asyncio.open_connection("127.0.0.1", server.port)


async def closed_by_server(reader):
    async with asyncio.timeout(5):
        return await reader.read() == b""


async def test_a_stream_gets_its_audio_in_order_until_hang_up(server):
    server, sink = server
    reader, writer = await connect(server)
    writer.write(frame(0x01, uuid.UUID(KNOWN).bytes))
    writer.write(frame(0x10, b"\x01\x00" * 160))  # 20 ms at 8 kHz
    writer.write(frame(0x03, b"5"))  # a key: ignored here
    writer.write(frame(0x12, b"\x01\x00" * 320))  # 20 ms at 16 kHz
    writer.write(frame(0x00))
    await writer.drain()
    async with asyncio.timeout(5):
        await sink.done.wait()
    assert sink.pieces == [(320, 8000), (640, 16000)]
    assert await closed_by_server(reader)
    writer.close()


async def test_a_closed_socket_ends_the_stream_too(server):
    server, sink = server
    _reader, writer = await connect(server)
    writer.write(frame(0x01, uuid.UUID(KNOWN).bytes) + frame(0x10, b"\0\0" * 160))
    await writer.drain()
    writer.close()
    async with asyncio.timeout(5):
        await sink.done.wait()
    assert sink.pieces == [(320, 8000)]


@pytest.mark.parametrize("first", [
    frame(0x01, uuid.uuid4().bytes),  # a stream nobody asked for
    frame(0x10, b"\0\0" * 160),  # audio before saying who it is
    b"GET / HTTP/1.1\r\n\r\n",  # not AudioSocket at all
    frame(0x01, b"short"),  # a torn identifier
], ids=["unknown stream", "audio first", "not audiosocket", "torn id"])
async def test_anything_else_closes_that_connection_only(server, first):
    server, sink = server
    reader, writer = await connect(server)
    writer.write(first)
    await writer.drain()
    assert await closed_by_server(reader)
    assert server.rejected == 1
    assert not sink.done.is_set()
    writer.close()


async def test_an_unknown_kind_mid_stream_ends_the_stream(server):
    server, sink = server
    reader, writer = await connect(server)
    writer.write(frame(0x01, uuid.UUID(KNOWN).bytes) + frame(0x42, b"?"))
    await writer.drain()
    assert await closed_by_server(reader)
    assert sink.done.is_set() and server.rejected == 1
    writer.close()


async def test_a_silent_peer_is_not_waited_for_forever(server, monkeypatch):
    server, _sink = server
    monkeypatch.setattr(audiosocket, "IDENTIFY_TIMEOUT", 0.2)
    reader, writer = await connect(server)
    assert await closed_by_server(reader)
    assert server.rejected == 1
    writer.close()
