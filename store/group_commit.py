"""Group commit: the transactions waiting for a serial writer share one BEGIN and one commit.

A serial writer (store/writer_thread.py's thread, store/writer_process.py's child) takes what
is waiting, at most MAX_BATCH jobs, and commits them together on its one connection
(WriterConnection.commit). One job's failure stays its own: if a job of the batch raises, the
batch is rolled back and run again with each job in a savepoint, so a job's `work` may run
twice and must act only through its connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Insert

from store.sqlite_fast_path import execute_many

_DEFERRED = "hotline_deferred_inserts"  # key in the connection's info dict
# Transactions per commit, at most, for both serial writers. A request that arrives just
# after a batch starts waits for all of it: in the writer process, at 1,000 tickets/s
# offered, create p99 over six runs was 13-18 ms with 16 (1,250/s: 15-21), 12-25 with 32
# (16-30) and 8-33 with 64 (24-35). The writer thread's callers (call records, the outbox
# worker's one mark at a time, accounts, seats) seldom have 16 waiting at once.
MAX_BATCH = 16


class Job(Protocol):
    """A job of a batch: a transaction of store/writer_thread.py or store/writer_process.py,
    to run as work(connection, *args)."""

    work: Callable[..., Any]
    args: tuple[Any, ...]


J = TypeVar("J", bound=Job)
Outcome = tuple[J, Any, BaseException | None]  # the job, its result, or what it raised


def insert_at_commit(conn: Connection, statement: Insert, row: dict[str, Any]) -> None:
    """Queue a row for an INSERT that nothing in the transaction reads back (an audit
    trail, an outbox): the rows of a whole group commit go in one executemany per
    statement, in the order they were queued, just before the commit."""
    conn.info.setdefault(_DEFERRED, []).append((statement, row))


def insert_queued(conn: Connection) -> None:
    """The INSERTs insert_at_commit queued, now: call it last in the transaction."""
    by_shape: dict[tuple[Insert, tuple[str, ...]], list[dict[str, Any]]] = {}
    for statement, row in conn.info.pop(_DEFERRED, []):
        by_shape.setdefault((statement, tuple(row)), []).append(row)
    for (statement, _keys), rows in by_shape.items():
        execute_many(conn, statement, rows)


def forget_queued(conn: Connection) -> None:
    """Drop the rows a failed transaction queued, so they do not land with the next."""
    conn.info.pop(_DEFERRED, None)


class WriterConnection:
    """The one connection of a serial writer: batches are committed on it. A batch that
    cannot even connect fails to its callers, and the next batch connects afresh."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def connect(self) -> None:
        self._conn = self._conn or self._engine.connect()

    def commit(self, batch: list[J]) -> list[Outcome[J]]:
        """Every job's work in one transaction, each job's failure its own. Never raises:
        a failure of the whole batch is every job's outcome."""
        try:
            self.connect()
            assert self._conn is not None
        except Exception as exc:
            self.close()
            return [(job, None, exc) for job in batch]
        return _commit_batch(self._conn, batch)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _commit_batch(conn: Connection, batch: list[J]) -> list[Outcome[J]]:
    try:
        outcomes = _commit_together(conn, batch) if len(batch) > 1 else None
        if outcomes is None:  # alone, or one of the batch failed: each on its own
            outcomes = _commit_each_apart(conn, batch)
    except Exception as exc:  # nothing of the batch was written
        outcomes = [(job, None, exc) for job in batch]
    finally:
        forget_queued(conn)
    return outcomes


def _commit_together(conn: Connection, batch: list[J]) -> list[Outcome[J]] | None:
    """The batch's jobs in one transaction, no savepoints: the common case, where none
    fails. None if one failed (everything rolled back, nothing settled)."""
    results = []
    with conn.begin() as transaction:
        for job in batch:
            try:
                results.append((job, job.work(conn, *job.args), None))
            except Exception:
                transaction.rollback()
                forget_queued(conn)
                return None
        insert_queued(conn)
    return results


def _commit_each_apart(conn: Connection, batch: list[J]) -> list[Outcome[J]]:
    outcomes: list[Outcome[J]] = []
    with conn.begin():
        if len(batch) == 1:  # alone: its failure rolls back the transaction itself
            outcomes.append((batch[0], batch[0].work(conn, *batch[0].args), None))
        else:
            for job in batch:
                outcomes.append(_in_savepoint(conn, job))
        insert_queued(conn)
    return outcomes


def _in_savepoint(conn: Connection, job: J) -> Outcome[J]:
    # Straight on the sqlite3 connection: SQLAlchemy's nested-transaction bookkeeping cost
    # more than the savepoint itself, and SQLAlchemy needs to know nothing of it.
    sqlite = conn.connection.dbapi_connection
    assert sqlite is not None
    deferred = conn.info.setdefault(_DEFERRED, [])
    written_before = len(deferred)
    sqlite.execute("SAVEPOINT job")
    try:
        result = job.work(conn, *job.args)
    except Exception as exc:
        del deferred[written_before:]
        sqlite.execute("ROLLBACK TO job")
        sqlite.execute("RELEASE job")
        return job, None, exc
    sqlite.execute("RELEASE job")
    return job, result, None
