"""AudioSocket over TCP: the audio Asterisk streams to us (an ARI externalMedia channel with
`encapsulation=audiosocket`). The only module that speaks this wire format.

A frame is one kind byte, a 16-bit big-endian length and the payload. A stream begins with
its identifier (kind 0x01, a 16-byte UUID), then carries audio (signed linear, 16-bit
little-endian mono; the kind says the rate) until a hang-up frame (0x00) or the socket
closes. A stream that does not say who it is in time, a frame too long for 16 bits of
length to mean sense, or a kind we do not know closes that connection only: the call it
belongs to goes on, and its transcript falls back to the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

HANGUP, IDENTIFIER, DTMF, ERROR = 0x00, 0x01, 0x03, 0xFF
# Signed-linear audio by rate (Asterisk 22, res/res_audiosocket.c): 0x10 is 8 kHz.
AUDIO_RATES = {0x10: 8000, 0x11: 12000, 0x12: 16000, 0x13: 24000, 0x14: 32000,
               0x15: 44100, 0x16: 48000, 0x17: 96000, 0x18: 192000}
IDENTIFY_TIMEOUT = 5.0
# Asterisk sends a frame every 20 ms; a minute of silence from an open stream means it is
# stuck (a half-open TCP connection), not that the citizen is quiet.
FRAME_TIMEOUT = 60.0


class FrameError(Exception):
    """The peer sent something that is not AudioSocket."""


@dataclass(frozen=True)
class Frame:
    kind: int
    payload: bytes


async def read_frame(reader: asyncio.StreamReader, only: int | None = None) -> Frame | None:
    """The next frame; None at a clean end (the socket closed between frames). `only`: the
    one kind acceptable here, refused from its header (before waiting for a payload that
    something else's bytes claim is 17 kB long)."""
    try:
        header = await reader.readexactly(3)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise FrameError("connection closed inside a frame header") from None
        return None
    kind, length = header[0], int.from_bytes(header[1:3], "big")
    if only is not None and kind != only:
        raise FrameError(f"frame of kind {kind:#04x} where {only:#04x} belongs")
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError:
        raise FrameError(f"connection closed inside a {length}-byte frame") from None
    return Frame(kind, payload)


def frame(kind: int, payload: bytes = b"") -> bytes:
    return bytes([kind]) + len(payload).to_bytes(2, "big") + payload


SILENCE = frame(0x10, bytes(1600))  # 100 ms at 8 kHz


async def _send_silence(writer: asyncio.StreamWriter) -> None:
    """Keep sending Asterisk silence while we listen: an AudioSocket channel whose peer
    sends nothing can spin in its read and never send us a frame for the whole call
    (asterisk#2089, open in 22.10). The channel is muted in its bridge, so nobody hears
    it; a tenth of a second at a time is enough to keep its read from spinning, at a
    fifth of the writes of 20 ms frames."""
    with contextlib.suppress(ConnectionError, OSError):
        while not writer.is_closing():
            writer.write(SILENCE)
            await writer.drain()
            await asyncio.sleep(0.1)


class AudioSink:
    """Where one stream's audio goes (recognizer side); the server calls these in order."""

    async def audio(self, pcm: bytes, rate: int) -> None:
        raise NotImplementedError

    async def ended(self) -> None:
        raise NotImplementedError


# stream id → its sink, or None for a stream nobody asked for (closed at once)
Claim = Callable[[str], Awaitable[AudioSink | None]]


class AudioSocketServer:
    def __init__(self, claim: Claim, host: str, port: int) -> None:
        self._claim = claim
        self._host, self._port = host, port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.rejected = 0  # connections closed for not speaking AudioSocket, or unknown

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        sink: AudioSink | None = None
        try:
            stream_id = await self._identify(reader)
            sink = await self._claim(stream_id) if stream_id else None
            if sink is None:
                self.rejected += 1
                log.warning("audio stream %s: not one we asked for; closed", stream_id)
                return
            talking = asyncio.create_task(_send_silence(writer), name=f"audiosocket-{stream_id}")
            try:
                await self._pump(stream_id, reader, sink)
            finally:
                talking.cancel()
        except FrameError as exc:
            self.rejected += 1
            log.warning("audio socket: %s; connection closed", exc)
        except (ConnectionError, TimeoutError) as exc:
            log.info("audio socket: %s", exc or type(exc).__name__)
        finally:
            if sink is not None:
                await sink.ended()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            self._connections.discard(task)

    async def _identify(self, reader: asyncio.StreamReader) -> str | None:
        try:
            async with asyncio.timeout(IDENTIFY_TIMEOUT):
                first = await read_frame(reader, only=IDENTIFIER)
        except TimeoutError:
            raise FrameError(f"no stream id within {IDENTIFY_TIMEOUT:g}s") from None
        if first is None:
            return None
        if len(first.payload) != 16:
            raise FrameError(f"a stream id of {len(first.payload)} bytes, not 16")
        return str(uuid.UUID(bytes=first.payload))

    async def _pump(self, stream_id: str, reader: asyncio.StreamReader,
                    sink: AudioSink) -> None:
        while True:
            async with asyncio.timeout(FRAME_TIMEOUT):
                got = await read_frame(reader)
            if got is None or got.kind == HANGUP:
                return
            rate = AUDIO_RATES.get(got.kind)
            if rate is not None:
                await sink.audio(got.payload, rate)
            elif got.kind == ERROR:
                log.warning("audio stream %s: Asterisk reports error %s", stream_id,
                            got.payload.hex() or "(no code)")
                return
            elif got.kind != DTMF:  # keys arrive over AMI/AGI already
                raise FrameError(f"unknown frame kind {got.kind:#04x}")
