"""The shared database layer: the writer's transactions and the migrations' schema, on SQLite
and PostgreSQL."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, text

import tickets.models  # noqa: F401
from ivr.accounts.service import Accounts, InvalidUser
from store.db import Base
from store.group_commit import insert_at_commit


class Refused(Exception):
    pass


SCRATCH = MetaData()  # a table of the test's own, outside the hotline's schema
NOTES = Table("notes", SCRATCH, Column("id", Integer, primary_key=True),
              Column("body", String(50), nullable=False, unique=True))
TRAIL = Table("trail", SCRATCH, Column("id", Integer, primary_key=True),
              Column("body", String(60), nullable=False))


async def _make_table(store_db) -> None:
    await store_db.write(SCRATCH.create_all)


def _add(body: str, *, then_fail: bool = False):
    def work(conn: Connection) -> int:
        conn.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})
        if then_fail:
            raise Refused(body)
        return conn.execute(text("SELECT count(*) FROM notes")).scalar_one()
    return work


async def _bodies(store_db) -> list[str]:
    async with store_db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT body FROM notes ORDER BY body"))
        return [r[0] for r in rows]


async def test_concurrent_writes_all_land_and_a_failing_one_leaves_nothing(store_db):
    """Many writes at once (SQLite: they share commits): every good one is written and
    answered; the failing ones raise to their own caller and leave no row behind."""
    await _make_table(store_db)
    jobs = [store_db.write(_add(f"n{i:03d}", then_fail=i % 10 == 3)) for i in range(100)]
    outcomes = await asyncio.gather(*jobs, return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, Exception)]
    assert len(failed) == 10 and all(isinstance(o, Refused) for o in failed)
    assert sorted(str(o) for o in failed) == [f"n{i:03d}" for i in range(3, 100, 10)]
    assert await _bodies(store_db) == [f"n{i:03d}" for i in range(100) if i % 10 != 3]


async def test_a_constraint_violation_fails_only_its_own_write(store_db):
    await _make_table(store_db)
    await store_db.write(_add("taken"))
    outcomes = await asyncio.gather(store_db.write(_add("taken")), store_db.write(_add("free")),
                                    return_exceptions=True)
    assert isinstance(outcomes[0], Exception) and outcomes[1] == 2
    assert await _bodies(store_db) == ["free", "taken"]


def _note_with_trail(body: str, *, then_fail: bool = False):
    """A note plus a trail row queued for the commit, like a ticket step and its audit."""
    def work(conn: Connection) -> None:
        conn.execute(NOTES.insert(), {"body": body})
        insert_at_commit(conn, TRAIL.insert(), {"body": f"trail of {body}"})
        if then_fail:
            raise Refused(body)
    return work


async def test_rows_queued_for_the_commit_land_in_order_and_only_for_good_writes(store_db):
    await _make_table(store_db)
    jobs = [store_db.write(_note_with_trail(f"n{i:03d}", then_fail=i % 7 == 0))
            for i in range(60)]
    await asyncio.gather(*jobs, return_exceptions=True)
    async with store_db.engine.connect() as conn:
        trail = [r[0] for r in await conn.execute(
            text("SELECT body FROM trail ORDER BY id"))]
    expected = [f"trail of n{i:03d}" for i in range(60) if i % 7 != 0]
    # One writer on SQLite keeps the callers' order; PostgreSQL commits concurrent
    # transactions in whatever order they finish (a ticket's own steps are serialised by
    # its row lock, so they stay in order there too).
    assert (trail if store_db.dialect == "sqlite" else sorted(trail)) == expected
    assert await _bodies(store_db) == [f"n{i:03d}" for i in range(60) if i % 7 != 0]


async def test_close_finishes_queued_writes(tmp_path):
    from store.db import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'close.db'}")
    await db.migrate()
    await _make_table(db)
    pending = [asyncio.ensure_future(db.write(_add(f"q{i}"))) for i in range(20)]
    await asyncio.sleep(0)  # queued, not necessarily written
    await db.close()
    await asyncio.gather(*pending)
    reopened = Database(db.url)
    assert len(await _bodies(reopened)) == 20
    await reopened.close()


async def test_migrations_build_exactly_the_models_schema(store_db):
    """The migrated database matches the models: a model change without its migration (or
    the reverse) fails here, not on an operator's machine."""
    def differences(conn: Connection) -> list:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)

    async with store_db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_a_database_that_cannot_be_opened_fails_each_write_and_never_hangs(tmp_path):
    from sqlalchemy.exc import OperationalError

    from store.sqlite import writer_engine
    from store.writer_thread import WriterThread

    unopenable = f"sqlite+aiosqlite:///{tmp_path}/no-such-dir/x.db"
    writer = WriterThread(writer_engine(unopenable))
    for _ in range(2):  # the writer thread is still there for the second one
        with pytest.raises(OperationalError):
            await asyncio.wait_for(writer.write(_add("lost")), 10)
    await asyncio.to_thread(writer.close)


async def test_orm_writes_go_through_the_writer_too(store_db):
    """Accounts write with a Session on the writer's connection (write(with_session, ...)): a
    duplicate is refused as the user's own error and the first account still works."""
    accounts = Accounts(store_db)
    created = await accounts.add_user("op1", "operator", "password-1", seat="1001")
    assert (created.name, created.seat) == ("op1", "1001")
    with pytest.raises(InvalidUser, match="exists already"):
        await accounts.add_user("op1", "supervisor", "password-2")
    token, principal = await accounts.login("op1", "password-1")
    assert principal.role == "operator"
    assert (await accounts.authenticate(token)).name == "op1"
    await accounts.logout(token)
    assert await accounts.authenticate(token) is None
