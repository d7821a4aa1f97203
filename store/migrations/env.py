"""Alembic environment: runs migrations on the async engine the service uses."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

import tickets.models  # noqa: F401
from store.db import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


asyncio.run(_main())
