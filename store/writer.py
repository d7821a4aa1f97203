"""Write transactions as plain functions of a synchronous connection.

A use case hands `Writer.run` a function `work(connection) -> result`; the writer runs it in one
transaction and commits, or rolls back and re-raises what `work` raised. `work` must act only
through the connection: on SQLite it may run twice (see `Writer._serve`).

Why: through aiosqlite every statement, flush and commit is its own hop to a worker thread
and back (about 27 for a ticket filing). For SQLite the writer has one dedicated thread with
its own connection: a whole transaction is one hop, and the writes that go through it never
race each other for SQLite's single write lock. On PostgreSQL the same function runs in the
async connection's greenlet (`run_sync`), so the pool and the database's row locks do the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Insert
from sqlalchemy.ext.asyncio import AsyncEngine

from store.sqlite_fast_path import execute_many

T = TypeVar("T")
_DEFERRED = "hotline_deferred_inserts"  # key in the connection's info dict
MAX_BATCH = 64  # transactions per commit, at most; bounds the wait behind a busy batch


class HasWork(Protocol):
    """A job of a batch: this thread's _Job, or a request of store/process_writer.py."""

    work: Callable[[Connection], Any]


J = TypeVar("J", bound=HasWork)


@dataclass
class _Job(Generic[T]):
    work: Callable[[Connection], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller gave up waiting; the transaction stands regardless
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def insert_at_commit(conn: Connection, statement: Insert, row: dict[str, Any]) -> None:
    """Queue a row for an INSERT that nothing in the transaction reads back (an audit
    trail, an outbox): the rows of a whole group commit go in one executemany per
    statement, in the order they were queued, just before the commit."""
    conn.info.setdefault(_DEFERRED, []).append((statement, row))


def _insert_deferred(conn: Connection) -> None:
    by_shape: dict[tuple[Insert, tuple[str, ...]], list[dict[str, Any]]] = {}
    for statement, row in conn.info.pop(_DEFERRED, []):
        by_shape.setdefault((statement, tuple(row)), []).append(row)
    for (statement, _keys), rows in by_shape.items():
        execute_many(conn, statement, rows)


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
            async with self._async_engine.connect() as conn:
                try:
                    async with conn.begin():
                        result = await conn.run_sync(work)
                        await conn.run_sync(_insert_deferred)
                        return result
                finally:
                    conn.sync_connection.info.pop(_DEFERRED, None)  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_thread()
        self._jobs.put(_Job(work, loop, future))
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
        """Group commit: every job waiting when a transaction starts shares its commit
        (and its BEGIN IMMEDIATE). One failure stays its own: if a job of the batch
        raises, the batch is rolled back and run again with each job in a savepoint, so a
        job's `work` may run twice and must act only through its connection.
        The thread never dies of a database error: a batch that cannot even connect fails
        to its callers, and the next batch connects afresh."""
        assert self._engine is not None
        connection = SerialConnection(self._engine)
        try:
            while True:
                batch, stopping = self._next_batch()
                if batch:
                    _settle_all(connection.run(batch))
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
        if self._engine is not None:
            self._engine.dispose()


Outcome = tuple[J, Any, BaseException | None]  # the job, its result, or what it raised


class SerialConnection:
    """The one connection of a serial writer (this module's thread, or the writer process):
    batches run on it with run_batch. A batch that cannot even connect fails to its
    callers, and the next batch connects afresh."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def connect(self) -> None:
        self._conn = self._conn or self._engine.connect()

    def run(self, batch: list[J]) -> list[Outcome[J]]:
        try:
            self.connect()
            assert self._conn is not None
        except Exception as exc:
            self.close()
            return [(job, None, exc) for job in batch]
        return run_batch(self._conn, batch)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def run_batch(conn: Connection, batch: list[J]) -> list[Outcome[J]]:
    """Every job's work in one transaction (group commit), each job's failure its own;
    see Writer._serve. Never raises: a failure of the whole batch is every job's outcome."""
    try:
        outcomes = _run_together(conn, batch) if len(batch) > 1 else None
        if outcomes is None:  # alone, or one of the batch failed: each on its own
            outcomes = _run_isolated(conn, batch)
    except Exception as exc:  # nothing of the batch was written
        outcomes = [(job, None, exc) for job in batch]
    finally:
        conn.info.pop(_DEFERRED, None)
    return outcomes


def _run_together(conn: Connection, batch: list[J]) -> list[Outcome[J]] | None:
    """The batch's jobs in one transaction, no savepoints: the common case, where none
    fails. None if one failed (everything rolled back, nothing settled)."""
    results = []
    with conn.begin() as transaction:
        for job in batch:
            try:
                results.append((job, job.work(conn), None))
            except Exception:
                transaction.rollback()
                conn.info.pop(_DEFERRED, None)
                return None
        _insert_deferred(conn)
    return results


def _run_isolated(conn: Connection, batch: list[J]) -> list[Outcome[J]]:
    outcomes: list[Outcome[J]] = []
    with conn.begin():
        if len(batch) == 1:  # alone: its failure rolls back the transaction itself
            outcomes.append((batch[0], batch[0].work(conn), None))
        else:
            for job in batch:
                outcomes.append(_in_savepoint(conn, job))
        _insert_deferred(conn)
    return outcomes


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
        _settle(job.future, result, error)


def _in_savepoint(conn: Connection, job: J) -> Outcome[J]:
    # Straight on the sqlite3 connection: SQLAlchemy's nested-transaction bookkeeping cost
    # more than the savepoint itself, and SQLAlchemy needs to know nothing of it.
    sqlite = conn.connection.dbapi_connection
    assert sqlite is not None
    deferred = conn.info.setdefault(_DEFERRED, [])
    written_before = len(deferred)
    sqlite.execute("SAVEPOINT job")
    try:
        result = job.work(conn)
    except Exception as exc:
        del deferred[written_before:]
        sqlite.execute("ROLLBACK TO job")
        sqlite.execute("RELEASE job")
        return job, None, exc
    sqlite.execute("RELEASE job")
    return job, result, None
