"""WAL checkpoints beside the writer process's commits, not inside them.

Why: by default SQLite copies the WAL back into the database file in the commit that takes the
WAL past 1,000 pages. At 1,000 tickets a second that is several commits a second, and each
such commit took 3-10 ms longer (measured), holding up every request queued behind it. Here a
thread with a connection of its own does the copying while the writer goes on committing.

The WAL only starts over from its beginning (instead of growing) when, at the start of a
write, everything in it has been copied. The thread cannot finish that alone while the writer
keeps appending, so once its pass is done the writer copies the few pages committed meanwhile
itself, between two batches, after answering them: a small fraction of a millisecond.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from store.sqlite import sqlite_pragmas

log = logging.getLogger(__name__)

COMMITS_PER_PASS = 32  # ~1,000-3,000 WAL pages at 3-16 transactions per commit


class Checkpointer:
    """Call `committed()` after every commit of the writer, on the writer's thread; with
    autocheckpoint off on the writer's connection (store.sqlite.writer_engine)."""

    def __init__(self, path: str, commits_per_pass: int = COMMITS_PER_PASS) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None,
                                           check_same_thread=False)
        sqlite_pragmas(self._connection, None)
        self._commits_per_pass = commits_per_pass
        self._commits = 0
        self._wake = threading.Event()
        self._copied = threading.Event()
        self._copying = False
        self._stopping = False
        self._thread = threading.Thread(target=self._copy_when_woken, name="wal-checkpoint",
                                        daemon=True)
        self._thread.start()

    def committed(self) -> None:
        self._commits += 1
        if self._copying:
            if self._copied.is_set() and self._catch_up():
                self._copying, self._commits = False, 0
        elif self._commits >= self._commits_per_pass:
            self._copying = True
            self._copied.clear()
            self._wake.set()

    def _catch_up(self) -> bool:
        """Copy what was committed during the thread's pass; True once the whole WAL is
        copied (the next write starts it over). A reader still on an older snapshot can
        hold the last pages back: then the next commit tries again."""
        try:
            busy, in_wal, copied = self._checkpoint()
        except sqlite3.Error:  # the WAL grows meanwhile; nothing is lost
            log.exception("WAL checkpoint failed")
            return False
        return not busy and in_wal == copied

    def _checkpoint(self) -> tuple[int, int, int]:
        row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _copy_when_woken(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._checkpoint()
            except sqlite3.Error:  # e.g. the disk is full: the writer's catch-up retries it
                log.exception("WAL checkpoint failed")
            self._copied.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._connection.close()
