"""Shared fixtures. End-to-end fixtures (real Asterisk) live in tests/e2e/conftest.py."""

import pytest

from ivr.db import Database


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    await database.migrate()
    yield database
    await database.close()
