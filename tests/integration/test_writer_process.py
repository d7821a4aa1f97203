"""The writer process (store/writer_process.py) with a real child process and a real SQLite
file: answers, errors, group commit, a child that dies, and stopping."""

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from store.writer_process import WriterProcess, WriterUnavailable, frame, split_frames
from tickets.errors import InvalidField


class Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:  # pickle calls Unpicklable(message): fails
        super().__init__(f"{a} {b}")


class Notes:
    """A handler as the child runs it: configuration only, methods of a connection."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def add(self, conn, text: str) -> int:
        cursor = conn.exec_driver_sql("INSERT INTO notes (text) VALUES (?)",
                                      (self.prefix + text,))
        return cursor.lastrowid

    def add_then_refuse(self, conn, text: str) -> None:
        self.add(conn, text)
        raise InvalidField("text", f"{text!r} is not allowed")

    def add_then_crash(self, conn, text: str) -> None:
        self.add(conn, text)
        raise Unpicklable("cannot", "pickle")

    def hold(self, conn, seconds: float) -> int:
        time.sleep(seconds)  # the child's own thread: it blocks nothing in the parent
        return os.getpid()

    def pid(self, conn) -> int:
        return os.getpid()


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    return path


@pytest.fixture
async def writer(db_file):
    writer_process = WriterProcess(f"sqlite+aiosqlite:///{db_file}", Notes("n:"))
    await writer_process.start()
    yield writer_process
    await writer_process.stop()


def notes(db_file) -> list[str]:
    with sqlite3.connect(db_file) as conn:
        return [text for (text,) in conn.execute("SELECT text FROM notes ORDER BY id")]


def test_frames_split_whole_and_keep_the_partial_one():
    data = bytearray(frame(("a", 1)) + frame({"b": [2]}))
    tail = frame("c")
    data += tail[:3]
    assert split_frames(data) == [("a", 1), {"b": [2]}]
    assert data == tail[:3]
    data += tail[3:]
    assert split_frames(data, 1) == ["c"] and data == b""


async def test_a_call_runs_in_the_child_and_commits(writer, db_file):
    row_id = await writer.call("add", "停水")
    assert notes(db_file) == ["n:停水"] and row_id == 1
    assert await writer.call("pid") == writer.pid != os.getpid()


async def test_concurrent_calls_commit_together_and_one_failure_stays_its_own(writer, db_file):
    texts = [f"t{i}" for i in range(200)]
    calls = [writer.call("add_then_refuse" if text == "t77" else "add", text) for text in texts]
    results = await asyncio.gather(*calls, return_exceptions=True)
    refused = results[77]
    assert isinstance(refused, InvalidField) and refused.field == "text"
    assert "'t77' is not allowed" in str(refused)
    assert sorted(notes(db_file)) == sorted(f"n:{t}" for t in texts if t != "t77")


async def test_an_error_that_does_not_pickle_comes_back_as_a_runtime_error(writer, db_file):
    with pytest.raises(RuntimeError, match="cannot pickle"):
        await writer.call("add_then_crash", "x")
    assert notes(db_file) == []  # its transaction was rolled back
    assert await writer.call("add", "after") == 1  # and the child serves on


async def test_an_unknown_method_is_an_error_not_a_dead_child(writer):
    with pytest.raises(AttributeError, match="no_such"):
        await writer.call("no_such")
    assert await writer.call("pid") == writer.pid


async def test_a_killed_child_fails_its_calls_and_another_takes_over(writer, db_file):
    first_pid = writer.pid
    in_flight = asyncio.create_task(writer.call("hold", 5))
    await asyncio.sleep(0.5)  # the child is in the middle of it
    os.kill(first_pid, signal.SIGKILL)
    with pytest.raises(WriterUnavailable):
        await asyncio.wait_for(in_flight, 10)
    # The next call waits for the new child rather than failing.
    assert await asyncio.wait_for(writer.call("add", "after restart"), 30) == 1
    assert writer.pid != first_pid
    assert notes(db_file) == ["n:after restart"]


async def test_stop_answers_what_was_asked_then_refuses(db_file):
    writer_process = WriterProcess(f"sqlite+aiosqlite:///{db_file}", Notes(""))
    await writer_process.start()
    calls = [asyncio.create_task(writer_process.call("add", f"x{i}")) for i in range(50)]
    await asyncio.sleep(0)  # the requests are on their way
    await writer_process.stop()
    assert len(await asyncio.gather(*calls)) == 50
    assert len(notes(db_file)) == 50
    with pytest.raises(WriterUnavailable):
        await writer_process.call("pid")


async def test_a_child_that_cannot_open_the_database_fails_start(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    writer_process = WriterProcess(f"sqlite+aiosqlite:///{missing}", Notes(""))
    with pytest.raises(WriterUnavailable):
        await writer_process.start()


async def test_a_call_waiting_for_a_restart_is_refused_at_stop_not_left_hanging(db_file):
    writer_process = WriterProcess(f"sqlite+aiosqlite:///{db_file}", Notes(""))
    await writer_process.start()
    os.kill(writer_process.pid, signal.SIGKILL)
    await asyncio.sleep(0.05)  # its socket closed; the next child takes longer to start
    waiting = asyncio.create_task(writer_process.call("pid", wait_for_start=30))
    await asyncio.sleep(0)
    await writer_process.stop()
    with pytest.raises(WriterUnavailable):
        await asyncio.wait_for(waiting, 5)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended; only its parent must reap it


async def test_the_child_ends_by_itself_when_the_service_dies_without_stopping_it(db_file):
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVICE_THAT_DIES.format(url=f"sqlite+aiosqlite:///{db_file}"),
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[2])
    child = int((await asyncio.wait_for(service.stdout.readline(), 30)).decode())
    await service.wait()
    for _ in range(100):
        if not _alive(child):
            break
        await asyncio.sleep(0.1)
    assert not _alive(child), "the writer process outlived the service"
    assert notes(db_file) == ["left before dying"]


SERVICE_THAT_DIES = """
import asyncio, os
from store.writer_process import WriterProcess
from tests.integration.test_writer_process import Notes

async def main():
    writer = WriterProcess("{url}", Notes(""))
    await writer.start()
    await writer.call("add", "left before dying")
    print(writer.pid, flush=True)
    os._exit(0)  # no stop(), no cleanup: as if the service were killed

asyncio.run(main())
"""
