"""The one way services run a write transaction, and the one place that decides where it runs.

Every service writes through a Transactions: `await transactions.write(work, *args)` runs
`work(connection, *args)` in one transaction and answers what it returned, or raises what it
raised with nothing of it committed. `work` must act only through the connection: a serial
writer may run it twice (store/group_commit.py). Code that changes mapped objects hands over
`with_session` and its own function of a Session.

Where the work runs is chosen here, when the app is wired, and nowhere else:

    database            a handler's methods (`Writers`)      any other work
    SQLite file         the writer process                   the writer thread
    in-memory SQLite    the writer thread                    the writer thread
    PostgreSQL          the pool                             the pool

- the writer thread (store/writer_thread.py): one connection, group commit, one hop per
  transaction where aiosqlite made one per statement;
- the pool (store/pool_writer.py): PostgreSQL's row locks serialise what must be;
- the writer process (store/writer_process.py): a picklable handler whose methods take a
  connection first (tickets/writes.py) runs in a child with an interpreter lock of its own,
  so the ticket transactions and the service's HTTP use both cores. Only an SQLite file can
  be opened by another process, so only it gets one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, TypeVarTuple

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from store.pool_writer import PoolWriter
from store.sqlite import writer_engine
from store.writer_process import WriterProcess
from store.writer_thread import WriterThread

if TYPE_CHECKING:
    from store.db import Database

T = TypeVar("T")
H = TypeVar("H")
Ts = TypeVarTuple("Ts")
_UNBOUND = object()  # what a plain function has for __self__: never anyone's handler


class Transactions(Protocol):
    """What runs a service's write transactions (the database's writer, or Writers)."""

    async def write(self, work: Callable[[Connection, *Ts], T], /, *args: *Ts) -> T:
        """`work(connection, *args)` as one write transaction; what it returned."""
        ...


def with_session(conn: Connection, work: Callable[[Session], T]) -> T:
    """For `write(with_session, work)`: `work` gets a Session on the transaction's
    connection, flushed inside it. Objects it returns are detached with their loaded
    values."""
    with Session(bind=conn) as session:
        result = work(session)
        session.flush()
        return result


def database_writer(db_url: str, engine: AsyncEngine) -> WriterThread | PoolWriter:
    """The writer of Database.write: see the table above."""
    if engine.dialect.name == "sqlite":
        return WriterThread(writer_engine(db_url))
    return PoolWriter(engine)


def writers_for(db: Database, handler: H, *, name: str = "db-writer") -> Writers[H]:
    """The writers of a service whose own changes are `handler`'s methods, as the hotline
    runs them: in a writer process (called `name`) on an SQLite file, else on the database's
    writer. The process starts with Writers.start."""
    if db.dialect == "sqlite" and not db.in_memory:
        return Writers(db.writer, handler, WriterProcess(db.url, handler, name=name))
    return Writers(db.writer, handler)


class Writers(Generic[H]):
    """A Transactions for a service whose own changes are methods of `handler`: once a
    writer process given here has started, they run there, by name; everything else, and
    all of it before the start (a one-off command never starts one), on `others`.
    Once stopped, the handler's methods are refused (WriterUnavailable), not run here, so
    nothing races the database's shutdown."""

    def __init__(self, others: Transactions, handler: H,
                 process: WriterProcess | None = None) -> None:
        self.handler = handler
        self._others = others
        self._process = process
        self._started: WriterProcess | None = None  # the process, once start() has run

    async def write(self, work: Callable[[Connection, *Ts], T], /, *args: *Ts) -> T:
        process = self._started
        if process is not None and getattr(work, "__self__", _UNBOUND) is self.handler:
            # A bound method of the handler: the child has its own copy of it.
            return await process.call(work.__name__, *args)
        return await self._others.write(work, *args)

    async def start(self) -> None:
        """Start the writer process, if there is one, and wait until it serves."""
        if self._process is not None and self._started is None:
            await self._process.start()
            self._started = self._process

    async def stop(self) -> None:
        if self._started is not None:
            await self._started.stop()

    @property
    def serving(self) -> bool:
        """The handler's methods can run now (false while a dead writer process is being
        replaced)."""
        return self._started is None or self._started.serving

