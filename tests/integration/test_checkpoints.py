"""WAL checkpoints beside the writer (store/checkpoints.py), on real SQLite files: the WAL
stays small while the writer commits without ever checkpointing itself, and a reader that
holds an old snapshot only delays that."""

import os
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from store.checkpoints import Checkpointer
from store.sqlite import writer_engine

ROWS_PER_COMMIT = 8
ROW = b"x" * 2000  # ~5 pages a commit


def _writer(path: Path) -> Connection:
    engine = writer_engine(f"sqlite+aiosqlite:///{path}", autocheckpoint=False)
    conn = engine.connect()
    with conn.begin():
        conn.execute(text("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body BLOB)"))
    return conn


def _commit(conn: Connection) -> None:
    with conn.begin():
        conn.execute(text("INSERT INTO notes (body) VALUES (:body)"),
                     [{"body": ROW}] * ROWS_PER_COMMIT)


def _wal_bytes(path: Path) -> int:
    return os.path.getsize(f"{path}-wal")


def _commits(conn: Connection, count: int, checkpointer: Checkpointer | None, *,
             idle_between: bool = False) -> None:
    for _ in range(count):
        _commit(conn)
        if checkpointer is not None:
            checkpointer.committed()
            if idle_between:
                checkpointer.idle()
            time.sleep(0.001)  # the pace of a busy writer (~600 commits/s), not a tight loop


@pytest.mark.parametrize("idle_between", [False, True], ids=["never idle", "idle between"])
def test_the_wal_stays_small_while_the_writer_commits(tmp_path, idle_between):
    alone = _writer(tmp_path / "alone.db")  # the same writes with nobody checkpointing
    _commits(alone, 600, None)
    grown = _wal_bytes(tmp_path / "alone.db")
    alone.close()

    conn = _writer(tmp_path / "kept.db")
    checkpointer = Checkpointer(str(tmp_path / "kept.db"), commits_per_pass=10)
    try:
        _commits(conn, 600, checkpointer, idle_between=idle_between)
        kept = _wal_bytes(tmp_path / "kept.db")
    finally:
        checkpointer.close()
        conn.close()
    assert grown > 10_000_000  # 600 commits of ~5 pages
    # Bounded by what is committed during one pass of the thread: ~50 pages when the disk
    # is quick, more while an fsync lags (seen: 1,000 pages on a cold disk).
    assert kept < grown / 3
    reader = sqlite3.connect(tmp_path / "kept.db")
    assert reader.execute("SELECT count(*) FROM notes").fetchone() == (600 * ROWS_PER_COMMIT,)
    reader.close()


def test_a_reader_on_an_old_snapshot_delays_the_wal_restart_until_it_lets_go(tmp_path):
    path = tmp_path / "read.db"
    conn = _writer(path)
    checkpointer = Checkpointer(str(path), commits_per_pass=10)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        _commits(conn, 20, checkpointer)
        reader.execute("BEGIN")
        seen = reader.execute("SELECT count(*) FROM notes").fetchone()[0]  # snapshot held
        _commits(conn, 200, checkpointer)
        held = _wal_bytes(path)
        # The reader still sees its snapshot: nothing it reads was copied away under it.
        assert reader.execute("SELECT count(*) FROM notes").fetchone()[0] == seen
        reader.execute("COMMIT")
        _commits(conn, 400, checkpointer)
        after = _wal_bytes(path)
    finally:
        reader.close()
        checkpointer.close()
        conn.close()
    assert held > 200 * 4 * 4096  # the held snapshot kept the WAL from starting over
    assert after <= held * 1.1  # let go: 400 more commits, and the WAL did not grow on
