"""The wiring (store.transactions.writers_for): where a service's writes run, asked through
the one interface, Transactions.write."""

import os
import threading

import pytest

from store.db import Database
from store.transactions import writers_for
from store.writer_process import WriterUnavailable
from tests.conftest import open_database

HERE = (os.getpid(), "MainThread")  # this process, on the event loop's thread (the pool)
WRITER_THREAD = (os.getpid(), "db-writer")


class Where:
    """A handler as tickets/writes.py's TicketWrites is one: it pickles, its methods take
    the connection first."""

    def runs(self, conn) -> tuple[int, str]:
        return os.getpid(), threading.current_thread().name


def elsewhere(conn) -> tuple[int, str]:
    """Work that is no method of the handler (as add_unit's is not)."""
    return os.getpid(), threading.current_thread().name


@pytest.fixture(params=["sqlite file", "sqlite in memory", "postgresql"])
async def database(request, tmp_path):
    if request.param == "sqlite in memory":
        db = Database("sqlite+aiosqlite://")
    else:
        db = await open_database(request, tmp_path, request.param.split()[0])
    yield request.param, db
    await db.close()


async def test_the_handler_runs_in_a_writer_process_only_on_an_sqlite_file(database):
    kind, db = database
    handler = Where()
    writers = writers_for(db, handler)
    await writers.start()
    try:
        handler_at = await writers.write(handler.runs)
        other_at = await writers.write(elsewhere)
    finally:
        await writers.stop()
    if kind == "sqlite file":
        assert handler_at[0] != os.getpid() and handler_at[1] == "MainThread"
        assert other_at == WRITER_THREAD
    elif kind == "sqlite in memory":  # no other process could open it
        assert handler_at == other_at == WRITER_THREAD
    else:
        assert handler_at == other_at == HERE


async def test_before_start_the_handler_runs_here_and_after_stop_it_is_refused(db):
    handler = Where()
    writers = writers_for(db, handler)
    assert await writers.write(handler.runs) == WRITER_THREAD  # e.g. `hotline units add`
    await writers.start()
    assert (await writers.write(handler.runs))[0] != os.getpid()
    await writers.stop()
    with pytest.raises(WriterUnavailable):
        await writers.write(handler.runs)
    assert await writers.write(elsewhere) == WRITER_THREAD  # the rest writes on
