"""Database engine and session factory (SQLAlchemy 2 async); SQLite by default, PostgreSQL too."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Connection, DateTime, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from store import jsonio
from store.sqlite import sqlite_pragmas
from store.transactions import database_writer

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class Base(DeclarativeBase):
    pass


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT construct with ON CONFLICT (upserts) for this database."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.in_memory = False  # an SQLite database no other process can open
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[-1] if ":///" in url else ""
            self.in_memory = path in ("", ":memory:")
            if not self.in_memory:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A ping before each use finds a PostgreSQL connection the server dropped; a SQLite
        # file cannot drop, and the ping would cost every read a round trip to its thread.
        self.engine: AsyncEngine = create_async_engine(
            url, pool_pre_ping=not url.startswith("sqlite"), json_serializer=jsonio.dumps,
            json_deserializer=jsonio.loads)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.writer = database_writer(url, self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> AsyncSession:
        return self.sessions()

    async def write(self, work: Callable[[Connection, *Ts], T], /, *args: *Ts) -> T:
        """`work(connection, *args)` as one write transaction on the database's writer: a
        store.transactions.Transactions (mapped objects: `write(with_session, work)`)."""
        return await self.writer.write(work, *args)

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic, run in a worker thread)."""
        await asyncio.to_thread(upgrade_to_head, self.url)

    async def ping(self, timeout: float = 2.0) -> bool:
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # any failure means "db down" to the health check
            log.warning("database ping failed: %s", exc)
            return False

    async def close(self) -> None:
        await asyncio.to_thread(self.writer.close)
        await self.engine.dispose()


def upgrade_to_head(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
