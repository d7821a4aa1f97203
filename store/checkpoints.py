"""WAL checkpoints beside the writer process's commits, not inside them.

Why: by default SQLite copies the WAL back into the database file in the commit that takes the
WAL past 1,000 pages. At 1,000 tickets a second that is several commits a second, and each
such commit took 3-10 ms longer (measured), holding up every request queued behind it. Here a
thread with a connection of its own does the copying while the writer goes on committing.

The WAL only starts over from its beginning (instead of growing) when, at the start of a
write, everything in it has been copied. The thread cannot finish that alone while the writer
keeps appending, so once its passes are done the writer copies the last pages itself -- the
commit or two made meanwhile, ~0.6 ms -- when it has nothing else to do, or after a few more
commits if it never runs out of work.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from store.sqlite import sqlite_pragmas

log = logging.getLogger(__name__)

COMMITS_PER_PASS = 32  # ~1,000-3,000 WAL pages at 3-16 transactions per commit
MAX_PASSES = 4  # in a row, while each finds many pages committed during the last
FEW_PAGES = 64
CATCH_UP_WITHIN = 16  # commits after the passes, if the writer is never idle before


class Checkpointer:
    """On the writer's thread: `committed()` after each commit, `idle()` when it is about to
    wait for work. The writer's connection has autocheckpoint off
    (store.sqlite.writer_engine(..., autocheckpoint=False))."""

    def __init__(self, path: str, commits_per_pass: int = COMMITS_PER_PASS) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None,
                                           check_same_thread=False)
        sqlite_pragmas(self._connection, None)
        self._commits_per_pass = commits_per_pass
        self._commits = 0  # since the passes were last asked for, or since the WAL restarted
        self._copying = False  # a pass was asked for, and the WAL has not started over yet
        self._wake = threading.Event()
        self._copied = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._copy_when_woken, name="wal-checkpoint",
                                        daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._commits += 1
        if not self._copying:
            if self._commits >= self._commits_per_pass:
                self._copying, self._commits = True, 0
                self._copied.clear()
                self._wake.set()
        elif self._copied.is_set() and self._commits >= CATCH_UP_WITHIN:
            self._catch_up()

    def idle(self) -> None:
        if self._copying and self._copied.is_set():
            self._catch_up()

    def _catch_up(self) -> None:
        """Copy what the passes left; once the whole WAL is copied the next write starts it
        over. A reader still on an older snapshot can hold pages back: then the thread
        passes again, so that what piles up meanwhile is not copied on the writer's time."""
        try:
            busy, in_wal, copied = self._checkpoint()
            whole = not busy and in_wal == copied
        except sqlite3.Error:  # the WAL grows meanwhile; nothing is lost
            log.exception("WAL checkpoint failed")
            whole = False
        if whole:
            self._copying, self._commits = False, 0
        else:
            self._copied.clear()
            self._wake.set()

    def _checkpoint(self) -> tuple[int, int, int]:
        """(busy, pages in the WAL, pages of it copied): SQLite's own answer."""
        row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _copy_when_woken(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._copy()
            except sqlite3.Error:  # e.g. the disk is full: the catch-up tries again
                log.exception("WAL checkpoint failed")
            self._copied.set()

    def _copy(self) -> None:
        """Copy the WAL; again while a pass met many pages committed during the last, so
        that the writer's catch-up is left little."""
        in_wal_before = 0
        for _ in range(MAX_PASSES):
            busy, in_wal, _copied = self._checkpoint()
            if busy or in_wal - in_wal_before <= FEW_PAGES:
                return
            in_wal_before = in_wal

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._connection.close()
