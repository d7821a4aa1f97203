"""Live transcripts: each side of a call decoded while the call is up, the text sent to
the operator's browser as it comes, and the whole transcript onto the call at its end.

Per call, two streams (the citizen's voice; what the citizen hears), each arriving from
Asterisk over AudioSocket (ivr/speech/taps.py opens them). The AudioSocket reader never
waits for the decoder — Asterisk's writes do not block, and a stalled reader would tear
its frames — so audio piles up in the stream's buffer and one decoding task per stream
takes it from there. A stream refused a live slot, or whose backlog grows past
MAX_BACKLOG_SECONDS (the pool is not keeping up), stops decoding live; the call is then
transcribed from its recording's two sides after it ends. Never a stalled call, never a
lost transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.telephony.audiosocket import AudioSink
from recognizer.pauses import PauseDetector
from recognizer.pool import DecoderPool
from recognizer.stream import Final, Partial, StreamDecoder
from recognizer.transcript import Segment, Side, in_order, segments_of

log = logging.getLogger(__name__)

CHUNK_SECONDS = 0.2  # audio handed to the decoder at a time
MAX_BACKLOG_SECONDS = 3.0
Publish = Callable[[str, dict[str, Any]], None]  # (call id, frame)


@dataclass
class LiveStream(AudioSink):
    """One side of one call, from its AudioSocket connection to its sentences."""

    call_id: str
    side: Side
    pool: DecoderPool
    publish: Publish
    offset: float  # seconds from the start of the call's recording to this stream's start
    live: bool = True  # decoded live (False: refused a slot, or fell behind)
    # The menu's phrases: while set, a second recognizer restricted to them hears the
    # citizen too (a spoken menu choice); None once the menu is over.
    grammar: list[str] | None = None
    # A pause this long closes the sentence under way (recognizer/pauses.py); None:
    # Vosk's own rules alone.
    pause_seconds: float | None = None
    finals: list[Final] = field(default_factory=list)
    phrases: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, phrase)
    phrase_pending: bool = False  # the grammar recognizer is inside an utterance
    phrase_heard: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    _buffer: bytearray = field(default_factory=bytearray)
    _rate: int = 8000
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ended: bool = False
    _decoding: asyncio.Task[None] | None = None
    _pauses: PauseDetector | None = None
    _pause_due: bool = False  # a pause ended a sentence in the audio not yet decoded

    def start(self) -> None:
        if self.live:
            self._decoding = asyncio.create_task(self._decode(),
                                                 name=f"asr-{self.side}-{self.call_id}")
        else:
            self.done.set()

    async def audio(self, pcm: bytes, rate: int) -> None:
        if not self.live:
            return  # the recording has it; transcribed after the call
        self._rate = rate
        self._buffer += pcm
        if len(self._buffer) > MAX_BACKLOG_SECONDS * rate * 2:
            log.warning("call %s: %s stream fell behind; transcribed after the call",
                        self.call_id, self.side)
            self._fall_back()
            return
        if self.pause_seconds and self._pauses is None:
            self._pauses = PauseDetector(rate, self.pause_seconds)
        # A few microseconds per 20 ms frame: fine on the loop, and the pause is heard
        # the moment its audio arrives, not a decoding piece later.
        if self._pauses is not None and self._pauses.hear(pcm):
            self._pause_due = True
            self._arrived.set()
        elif len(self._buffer) >= CHUNK_SECONDS * rate * 2:
            self._arrived.set()

    async def ended(self) -> None:
        self._ended = True
        self._arrived.set()

    def _fall_back(self) -> None:
        self.live = False
        self._buffer.clear()
        self.pool.stats.fell_behind += 1
        if self._decoding is not None:
            self._decoding.cancel()

    async def _decode(self) -> None:
        decoder: StreamDecoder | None = None
        menu: StreamDecoder | None = None
        try:
            while True:
                await self._arrived.wait()
                self._arrived.clear()
                if decoder is None:
                    decoder = await self.pool.decoder(self._rate)
                if self.grammar and menu is None:
                    menu = await self.pool.decoder(self._rate, self.grammar)
                piece, self._buffer = bytes(self._buffer), bytearray()
                pause, self._pause_due = self._pause_due, False
                if piece:
                    for heard in await self.pool.feed(decoder, piece):
                        self._heard(heard)
                    if menu is not None and self.grammar:
                        for heard in await self.pool.feed(menu, piece):
                            self._heard_in_menu(heard)
                    elif menu is not None:
                        menu = None  # the menu is over: only the transcript goes on
                if pause:
                    for heard in await self.pool.end_sentence(decoder):
                        self._heard(heard)
                    if menu is not None:
                        for heard in await self.pool.end_sentence(menu):
                            self._heard_in_menu(heard)
                if self._ended and not self._buffer:
                    for heard in await self.pool.finish(decoder):
                        self._heard(heard)
                    return
        except asyncio.CancelledError:
            if self.live:  # cancelled from outside (the service stopping): not complete
                self.live = False
            raise
        except Exception:
            log.exception("call %s: %s stream decoding failed", self.call_id, self.side)
            self.live = False
        finally:
            self.pool.give_back()
            self.done.set()

    def _heard(self, heard: Partial | Final) -> None:
        frame: dict[str, Any] = {"type": "transcript", "call_id": self.call_id,
                                 "side": self.side, "text": heard.text}
        if isinstance(heard, Final):
            self.finals.append(heard)
            frame.update(state="final", start=round(heard.start + self.offset, 2),
                         end=round(heard.end + self.offset, 2))
        else:
            frame["state"] = "partial"
        self.publish(self.call_id, frame)

    def _heard_in_menu(self, heard: Partial | Final) -> None:
        if isinstance(heard, Final):
            self.phrases.append((time.monotonic(), heard.text))
            self.phrase_pending = False
            self.phrase_heard.set()
        else:
            self.phrase_pending = True

    def segments(self) -> list[Segment]:
        return segments_of(self.side, self.finals, self.offset)


@dataclass
class LiveCall:
    call_id: str
    recording_started: float  # monotonic
    wanted: set[str] = field(default_factory=set)  # the sides whose taps were asked for
    streams: dict[str, LiveStream] = field(default_factory=dict)  # AudioSocket id → stream
    tap_failed: bool = False

    @property
    def complete(self) -> bool:
        """Every side asked for was decoded live to the end: no after-call transcription."""
        return (not self.tap_failed
                and {s.side for s in self.streams.values()} == self.wanted
                and all(s.live for s in self.streams.values()))

    async def finished(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                for stream in self.streams.values():
                    await stream.done.wait()

    def segments(self) -> list[Segment]:
        return in_order(*(s.segments() for s in self.streams.values()))

    def caller(self) -> LiveStream | None:
        return next((s for s in self.streams.values() if s.side == "caller"), None)


def new_stream(call: LiveCall, stream_id: str, side: Side, pool: DecoderPool,
               publish: Publish, grammar: list[str] | None = None,
               pause_seconds: float | None = None) -> LiveStream:
    stream = LiveStream(call.call_id, side, pool, publish,
                        offset=max(0.0, time.monotonic() - call.recording_started),
                        live=pool.take_slot(), grammar=grammar, pause_seconds=pause_seconds)
    call.streams[stream_id] = stream
    stream.start()
    return stream
