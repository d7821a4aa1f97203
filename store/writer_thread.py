"""Write transactions on one thread of the service's own, with group commit (SQLite).

`WriterThread.write(work, *args)` runs `work(connection, *args)` on the thread in one
transaction and commits, or rolls back and re-raises what `work` raised (a
store.transactions.Transactions). `work` must act only through the connection: it may run
twice (see store/group_commit.py).

Why: through aiosqlite every statement, flush and commit is its own hop to a worker thread
and back (about 27 for a ticket filing). The writer thread has its own connection: a whole
transaction is one hop, and the writes that go through it never race each other for
SQLite's single write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, TypeVarTuple

from sqlalchemy import Connection, Engine

from store.group_commit import MAX_BATCH, Outcome, WriterConnection

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass
class _Job(Generic[T]):
    work: Callable[..., T]
    args: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


class WriterThread:
    def __init__(self, engine: Engine) -> None:
        """engine: a synchronous engine of the thread's own (store.sqlite.writer_engine)."""
        self._engine = engine
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def write(self, work: Callable[[Connection, *Ts], T], /, *args: *Ts) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_thread()
        self._jobs.put(_Job(work, args, loop, future))
        return await future

    def _ensure_thread(self) -> None:
        if self._thread is not None:  # every write after the first: no lock to take
            return
        with self._start:
            if self._thread is None:
                # A daemon, so a writer nobody closed cannot hang the interpreter's exit;
                # close() drains the queue before the service stops.
                self._thread = threading.Thread(target=self._serve, name="db-writer",
                                                daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        """Commit batches until close() asks to stop. The thread never dies of a database
        error: a batch that cannot even connect fails to its callers, and the next batch
        connects afresh."""
        connection = WriterConnection(self._engine)
        try:
            while True:
                batch, stopping = self._next_batch()
                if batch:
                    _settle_all(connection.commit(batch))
                if stopping:
                    return
        finally:
            connection.close()

    def _next_batch(self) -> tuple[list[_Job[Any]], bool]:
        """The next job (waiting for it) and all queued behind it; True once close() asked."""
        job = self._jobs.get()
        if job is None:
            return [], True
        batch = [job]
        while len(batch) < MAX_BATCH:
            try:
                more = self._jobs.get_nowait()
            except queue.Empty:
                break
            if more is None:
                return batch, True
            batch.append(more)
        return batch, False

    def close(self) -> None:
        """Finish the queued transactions, then release the connection."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        self._engine.dispose()


def _settle_all(outcomes: list[Outcome[_Job[Any]]]) -> None:
    """Hand the outcomes to their callers' loops: one wake-up per loop, not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome[_Job[Any]]]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, mine in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_each, mine)


def _settle_each(outcomes: list[Outcome[_Job[Any]]]) -> None:
    for job, result, error in outcomes:
        if job.future.done():  # the caller gave up waiting; the transaction stands regardless
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)
