"""AMI events for a consumer that must apply them in order without holding up the AMI
reader: the reader hands over the events named, a task of the consumer's applies them
one by one. A failure is logged and the next event still applied."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from ivr.log_format import call_context
from ivr.telephony.ami_client import Message
from ivr.telephony.dialplan_vars import CALL_ID
from store.tasks import cancel_and_wait

log = logging.getLogger(__name__)


def channel_var(message: Message, name: str) -> str:
    """A channel variable riding on an event (manager.conf channelvars); "" if absent."""
    for line in message.get("ChanVariable", "").splitlines():
        key, _, value = line.partition("=")
        if key == name:
            return value
    return ""


def call_of(message: Message) -> str:
    """The hotline call an event is about: the call id every channel of the call inherits
    (an operator's, a unit's leg), else the linked id (the citizen's channel before the
    dialplan set the variable); "" for an event of no call (a seat's device state)."""
    return channel_var(message, CALL_ID) or message.get("Linkedid", "")


class OrderedEvents:
    def __init__(self, names: Collection[str], apply: Callable[[Message], Awaitable[None]],
                 task_name: str) -> None:
        self._names = frozenset(names)
        self._apply = apply
        self._task_name = task_name
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def on_event(self, message: Message) -> None:
        """Called by the AMI reader for every event."""
        if message.get("Event") in self._names:
            self._queue.put_nowait(message)

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name=self._task_name)

    async def stop(self) -> None:
        await cancel_and_wait(self._worker)

    async def idle(self) -> None:
        """Wait until every event received so far has been applied."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            message = await self._queue.get()
            # What applying it logs, and the tasks and timers it starts, are this call's.
            with call_context(call_of(message)):
                try:
                    await self._apply(message)
                except Exception:
                    log.exception("%s: could not apply %s", self._task_name,
                                  message.get("Event"))
                finally:
                    self._queue.task_done()
