"""Shared fixtures. End-to-end fixtures (real Asterisk) live in tests/e2e/conftest.py."""

import uuid

import asyncpg
import pytest

from store.db import Database
from tests.support.postgres import PostgresServer


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_db(request, tmp_path):
    """The same store tests on SQLite and on a real PostgreSQL server."""
    database = await open_database(request, tmp_path, request.param)
    yield database
    await database.close()


async def open_database(request, tmp_path, kind: str) -> Database:
    """A migrated database of that kind ("sqlite" or "postgresql"), empty."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(server.admin_url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = server.url(name)
    database = Database(url)
    await database.migrate()
    return database


def pytest_collection_modifyitems(items):
    """Everything under tests/e2e drives the real Asterisk: marked e2e, so
    `make test-fast` (-m "not e2e") leaves it out."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)
