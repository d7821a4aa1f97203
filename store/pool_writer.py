"""Write transactions on the async engine's connection pool (PostgreSQL).

The same `work(connection, *args)` functions as store/writer_thread.py's run here in the async
connection's greenlet (`run_sync`): the pool and the database's row locks do what the
writer thread's single connection does on SQLite, so there is no batching and each
transaction commits on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from store.group_commit import forget_queued, insert_queued

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class PoolWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def write(self, work: Callable[[Connection, *Ts], T], /, *args: *Ts) -> T:
        async with self._engine.connect() as conn:
            try:
                async with conn.begin():
                    # One trip into the greenlet for the work and the rows it queued.
                    return await conn.run_sync(_then_queued_inserts, work, args)
            finally:
                forget_queued(conn.sync_connection)  # type: ignore[arg-type]

    def close(self) -> None:
        """Nothing of its own to release: the engine's pool is the database's."""


def _then_queued_inserts(conn: Connection, work: Callable[..., T],
                         args: tuple[Any, ...]) -> T:
    result = work(conn, *args)
    insert_queued(conn)
    return result
