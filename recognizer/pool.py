"""Decoding off the event loop, within what the machine holds in real time.

Vosk releases the GIL while it decodes, so a thread pool of `workers` threads decodes that
many streams at once on one shared model. A stream is only decoded live if a live slot is
free (`live_streams`, sized by measuring: bench/speech_throughput.py); a stream refused a
slot is not lost — its audio is recorded and transcribed after the call (the caller's
business), and `refused` counts how often that happened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from recognizer.model import SpeechModel
from recognizer.stream import Final, Heard, StreamDecoder

T = TypeVar("T")


@dataclass
class PoolStats:
    live: int = 0  # streams being decoded live now
    refused: int = 0  # streams refused a live slot since start
    fell_behind: int = 0  # live streams the decoders could not keep up with
    after_call: int = 0  # after-call transcriptions finished


@dataclass
class DecoderPool:
    model: SpeechModel
    workers: int = 2
    live_streams: int = 4
    stats: PoolStats = field(default_factory=PoolStats)

    def __post_init__(self) -> None:
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="vosk")

    def take_slot(self) -> bool:
        """A live slot for a stream; False when every slot is taken (then the stream is
        transcribed after the call instead). Give it back with `give_back`."""
        if self.stats.live >= self.live_streams:
            self.stats.refused += 1
            return False
        self.stats.live += 1
        return True

    def give_back(self) -> None:
        self.stats.live = max(0, self.stats.live - 1)

    @contextlib.contextmanager
    def live_slot(self) -> Iterator[bool]:
        """`with pool.live_slot() as live:` take_slot and give_back around a block."""
        live = self.take_slot()
        try:
            yield live
        finally:
            if live:
                self.give_back()

    async def decoder(self, rate: int, grammar: list[str] | None = None) -> StreamDecoder:
        """A fresh recognizer for one stream (made in a worker: it reads the model's graph)."""
        return await self.run(StreamDecoder, self.model, rate, grammar)

    async def feed(self, decoder: StreamDecoder, pcm: bytes) -> list[Heard]:
        return await self.run(decoder.feed, pcm)

    async def end_sentence(self, decoder: StreamDecoder) -> list[Final]:
        return await self.run(decoder.end_sentence)

    async def finish(self, decoder: StreamDecoder) -> list[Final]:
        return await self.run(decoder.finish)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` on a decoding thread (file decoding shares the same bound)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
