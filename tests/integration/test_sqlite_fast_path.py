"""store/sqlite_fast_path.py: hot statements run on SQLite's own connection must read and write
exactly what SQLAlchemy's Connection.execute does, types included; on PostgreSQL the same
calls go through Connection.execute."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
)

from store.db import UtcDateTime, dialect_insert
from store.sqlite_fast_path import execute, execute_many, fetch_all, fetch_first

SCRATCH = MetaData()
THINGS = Table("things", SCRATCH, Column("id", Integer, primary_key=True),
               Column("name", String(20)), Column("tags", JSON),
               Column("at", UtcDateTime), Column("day", Date), Column("urgent", Boolean),
               Column("count", Integer))
WITH_DEFAULT = Table("with_default", SCRATCH, Column("id", Integer, primary_key=True),
                     Column("n", Integer, default=7))

INSERT = insert(THINGS)
BY_ID = select(THINGS).where(THINGS.c.id == bindparam("id"))
BY_DAY = select(THINGS.c.id, func.count().over().label("of")).where(
    THINGS.c.day >= bindparam("since")).order_by(THINGS.c.id)
RENAME = THINGS.update().where(THINGS.c.id == bindparam("thing"))
BUMP = (dialect_insert("sqlite")(THINGS).values(id=bindparam("id"), count=1)
        .on_conflict_do_update(index_elements=[THINGS.c.id],
                               set_={"count": THINGS.c.count + 1})
        .returning(THINGS.c.count))
AT = datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)
ROW = {"id": 1, "name": "甲", "tags": ["供水", {"k": 1}], "at": AT, "day": date(2026, 11, 22),
       "urgent": True, "count": 0}


async def test_values_round_trip_like_sqlalchemy(store_db):
    await store_db.write(SCRATCH.create_all)

    def work(conn: Connection) -> tuple:
        execute(conn, INSERT, ROW)
        execute_many(conn, INSERT, [ROW | {"id": 2, "urgent": False, "tags": [], "name": None},
                                ROW | {"id": 3, "at": None, "day": date(2026, 1, 1)}])
        execute(conn, RENAME, {"thing": 2, "name": "乙", "urgent": None})
        mine = [fetch_first(conn, BY_ID, {"id": i}) for i in (1, 2, 3, 4)]
        theirs = [conn.execute(BY_ID, {"id": i}).mappings().first() for i in (1, 2, 3, 4)]
        return mine, [dict(r) if r else None for r in theirs], fetch_all(
            conn, BY_DAY, {"since": date(2026, 6, 1)})

    mine, theirs, recent = await store_db.write(work)
    assert mine == theirs
    assert mine[0] == ROW and mine[3] is None
    assert mine[1]["name"] == "乙" and mine[1]["urgent"] is None and mine[1]["tags"] == []
    assert mine[2]["at"] is None and mine[2]["day"] == date(2026, 1, 1)
    assert mine[0]["at"].tzinfo is not None
    assert recent == [{"id": 1, "of": 2}, {"id": 2, "of": 2}]


async def test_literals_in_the_statement_and_returning(db):
    """SQLite's upsert (PostgreSQL's runs in the ticket numbers of test_tickets_store)."""
    await db.write(SCRATCH.create_all)

    def work(conn: Connection) -> list:
        return [fetch_first(conn, BUMP, {"id": 9}) for _ in range(3)]

    assert await db.write(work) == [{"count": 1}, {"count": 2}, {"count": 3}]


async def test_a_missing_value_or_a_needed_default_is_refused(db):
    await db.write(SCRATCH.create_all)
    with pytest.raises(KeyError, match="'thing'"):
        await db.write(lambda conn: execute(conn, RENAME, {"name": "x"}))
    with pytest.raises(ValueError, match="column defaults"):
        await db.write(lambda conn: execute(conn, insert(WITH_DEFAULT), {"id": 1}))
    assert await db.write(lambda conn: fetch_all(conn, select(WITH_DEFAULT), {})) == []
