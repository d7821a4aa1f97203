"""After every AMI (re)connect, bring Asterisk back in line with what the service knows.

Asterisk keeps queue members and globals only in memory, and events sent while nobody
listened are gone: so each part (the live calls, the seats in their queues, the staffed-hours
global) is re-applied after a (re)connect, and a part that fails is retried with backoff
until it has succeeded, while the parts that succeeded are left alone. Every part is
idempotent. Until all have succeeded, `pending` names what is not back yet (for
/api/health); a lost connection makes every part pending again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Part = Callable[[], Awaitable[None]]


class Resync:
    def __init__(self, parts: dict[str, Part], *, first_delay: float = 0.25,
                 max_delay: float = 5.0) -> None:
        self._parts = parts  # in the order they run: calls before seats before the schedule
        self._first_delay = first_delay
        self._max_delay = max_delay
        self.pending: set[str] = set(parts)
        self.rounds = 0  # completed resynchronisations (for tests)

    def reset(self) -> None:
        """The connection is gone: nothing counts as restored any more."""
        self.pending = set(self._parts)

    async def run(self) -> None:
        """Apply every part, retrying the ones that fail until all have succeeded."""
        self.pending = set(self._parts)
        delay = self._first_delay
        attempt = 1
        while True:
            for name, part in self._parts.items():
                if name not in self.pending:
                    continue
                try:
                    await part()
                except Exception as exc:  # every failure is retried: parts are idempotent
                    log.warning("resync: %s not restored yet (attempt %d: %s); retrying in "
                                "%.1fs", name, attempt, exc or type(exc).__name__, delay)
                else:
                    self.pending.discard(name)
            if not self.pending:
                self.rounds += 1
                log.info("resync complete: %s restored", ", ".join(self._parts))
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)
            attempt += 1
