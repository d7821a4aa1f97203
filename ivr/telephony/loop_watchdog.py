"""Notices a stalled event loop from a thread of its own, and hands callers back to Asterisk.

If a blocking call ever freezes the loop, every caller in the IVR would hear silence: the
AGI sockets stay open and Asterisk waits for them. The watchdog thread does not need the
loop: it shuts those sockets, and the dialplan takes each caller to the operator queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from store.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class LoopWatchdog:
    def __init__(self, on_stall: Callable[[], int], stall_seconds: float = 5.0,
                 tick_seconds: float = 0.5) -> None:
        self._on_stall = on_stall
        self._stall_seconds = stall_seconds
        self._tick_seconds = tick_seconds
        self._last_tick = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.stalls = 0

    async def start(self) -> None:
        self._last_tick = time.monotonic()
        self._ticker = asyncio.create_task(self._tick(), name="loop-watchdog-tick")
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        await cancel_and_wait(self._ticker)
        if self._thread:
            await asyncio.to_thread(self._thread.join, 2)

    async def _tick(self) -> None:
        while True:
            self._last_tick = time.monotonic()
            await asyncio.sleep(self._tick_seconds)

    def _watch(self) -> None:
        acted_for = 0.0  # the tick we already acted on: act once per stall
        while not self._stop.wait(self._tick_seconds):
            last = self._last_tick
            if time.monotonic() - last > self._stall_seconds and last != acted_for:
                acted_for = last
                self.stalls += 1
                handed_back = self._on_stall()
                log.error("event loop stalled for over %.0fs; handed %d IVR callers back to "
                          "the dialplan", self._stall_seconds, handed_back)
