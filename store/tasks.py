"""Owning background tasks."""

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a task we own and wait until it has finished.

    gather(return_exceptions=True) absorbs the task's own CancelledError, but not one aimed
    at the caller: unlike suppress(CancelledError), a shutdown that is itself cancelled
    still stops.
    """
    if task is None:
        return
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
