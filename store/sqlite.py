"""SQLite connection settings: the service's async connections and the writer's own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from store import jsonio


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web API read while the call tracker writes; busy_timeout waits out a lock.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def writer_engine(async_url: str, *, autocheckpoint: bool = True) -> Engine:
    """A synchronous (pysqlite) engine on the same file, for a writer thread or process;
    autocheckpoint=False leaves WAL checkpoints to a store.checkpoints.Checkpointer."""
    engine = create_engine(async_url.replace("sqlite+aiosqlite:", "sqlite:", 1),
                           json_serializer=jsonio.dumps, json_deserializer=jsonio.loads)
    event.listen(engine, "connect", _own_transactions)
    if not autocheckpoint:
        event.listen(engine, "connect", _no_autocheckpoint)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _own_transactions(dbapi_connection: Any, record: Any) -> None:
    sqlite_pragmas(dbapi_connection, record)
    # pysqlite would open transactions itself, lazily, at the first write; we open them.
    dbapi_connection.isolation_level = None


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: a transaction that reads and then writes cannot lose a
    # race to the service's other writers (call records, outbox), and busy_timeout applies.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
