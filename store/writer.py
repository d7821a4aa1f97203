"""Write transactions as plain functions of a synchronous connection.

A use case hands `Writer.run` a function `work(connection) -> result`; the writer runs it in one
transaction and commits, or rolls back and re-raises what `work` raised.

Why: through aiosqlite every statement, flush and commit is its own hop to a worker thread
and back (about 27 for a ticket filing). For SQLite the writer has one dedicated thread with
its own connection: a whole transaction is one hop, and the writes that go through it never
race each other for SQLite's single write lock. On PostgreSQL the same function runs in the
async connection's greenlet (`run_sync`), so the pool and the database's row locks do the work.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
MAX_BATCH = 64  # transactions per commit, at most; bounds the wait behind a busy batch


@dataclass
class _Job(Generic[T]):
    work: Callable[[Connection], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]

    def settle(self, result: Any, error: BaseException | None) -> None:
        self.loop.call_soon_threadsafe(_settle, self.future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller gave up waiting; the transaction stands regardless
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Writer:
    def __init__(self, engine: AsyncEngine, thread_engine: Engine | None) -> None:
        """thread_engine: run transactions on one thread with this engine (SQLite);
        None: run them on the async engine's pool (PostgreSQL)."""
        self._async_engine = engine
        self._engine = thread_engine
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def run(self, work: Callable[[Connection], T]) -> T:
        if self._engine is None:
            async with self._async_engine.begin() as conn:
                return await conn.run_sync(work)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_thread()
        self._jobs.put(_Job(work, loop, future))
        return await future

    def _ensure_thread(self) -> None:
        with self._start:
            if self._thread is None:
                # A daemon, so a writer nobody closed cannot hang the interpreter's exit;
                # close() drains the queue before the service stops.
                self._thread = threading.Thread(target=self._serve, name="db-writer",
                                                daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        """Group commit: every job waiting when a transaction starts shares its commit
        (and its BEGIN IMMEDIATE), each in a savepoint so one failure stays its own."""
        assert self._engine is not None
        with self._engine.connect() as conn:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                batch = [job]
                stopping = False
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stopping = True
                        break
                    batch.append(more)
                self._commit(conn, batch)
                if stopping:
                    return

    @staticmethod
    def _commit(conn: Connection, batch: list[_Job[Any]]) -> None:
        outcomes: list[tuple[_Job[Any], Any, BaseException | None]] = []
        try:
            with conn.begin():
                if len(batch) == 1:  # alone: its failure rolls back the transaction itself
                    outcomes.append((batch[0], batch[0].work(conn), None))
                else:
                    for job in batch:
                        outcomes.append(_in_savepoint(conn, job))
        except Exception as exc:  # nothing of the batch was written
            outcomes = [(job, None, exc) for job in batch]
        for job, result, error in outcomes:
            job.settle(result, error)

    def close(self) -> None:
        """Finish the queued transactions, then release the connection."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        if self._engine is not None:
            self._engine.dispose()


def _in_savepoint(conn: Connection, job: _Job[Any]) -> tuple[_Job[Any], Any,
                                                             BaseException | None]:
    savepoint = conn.begin_nested()
    try:
        result = job.work(conn)
    except Exception as exc:
        savepoint.rollback()
        return job, None, exc
    savepoint.commit()
    return job, result, None
