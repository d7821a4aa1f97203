"""Write transactions in a child process of their own (SQLite).

Why: the service is one Python process, and everything in it (HTTP, the call tracker, the
writer thread) shares one interpreter lock, so on a two-core machine a heavy write path can
use only one core, and every request waits for the writer's turn at the lock. A writer process
has a lock of its own: it runs its transactions on its main thread, synchronously, while the
service keeps answering HTTP.

The child serves one *handler*: an object that pickles (configuration only) whose methods
take a synchronous connection first, `handler.method(conn, *args) -> result`. The parent asks
by name: `await writer.call("method", *args)` (store.transactions.Writers turns a service's
`write(handler.method, *args)` into that); arguments, results and errors travel as
pickles over a socket pair, each in a frame (4-byte length, then the pickle). Requests that
wait together run together, as one group commit, with each job's failure its own
(store/group_commit.py). WAL checkpoints happen beside the commits, not in them
(store.checkpoints).

If the child dies, the calls it had not answered fail with WriterUnavailable (the hotline
answers 503; a request's transaction may or may not have committed) and a new child starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

log = logging.getLogger(__name__)

HEADER = struct.Struct("!I")
READ_SIZE = 1 << 18  # bytes per read from the socket, into a buffer kept for it
READY = 0  # the request id of the child's "connected and serving" frame
START_TIMEOUT = 30.0  # seconds for a new child to import, connect and say it is ready
RESTART_DELAYS = (0.0, 0.5, 1.0, 2.0, 5.0)  # after each death in a row, up to the last
SERVED_A_WHILE = 60.0  # seconds; a child that dies later than this is not "in a row"


class WriterUnavailable(Exception):
    """The writer process is not serving (starting, restarting or stopped); the change
    may or may not have been made."""

    http_status = 503  # the web API answers it so (see http_kit/errors.py)


def frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def split_frames(buffer: bytearray, limit: int | None = None) -> list[Any]:
    """Unpickle the complete frames at the start of buffer (at most `limit`) and remove
    them from it; a partial frame stays for the next read."""
    values, offset, view = [], 0, memoryview(buffer)
    try:
        while limit is None or len(values) < limit:
            if len(buffer) - offset < HEADER.size:
                break
            (length,) = HEADER.unpack_from(buffer, offset)
            end = offset + HEADER.size + length
            if len(buffer) < end:
                break
            values.append(pickle.loads(view[offset + HEADER.size:end]))
            offset = end
    finally:
        view.release()
    del buffer[:offset]
    return values


# -- the parent's side -------------------------------------------------------------------------


class _Channel(asyncio.BufferedProtocol):
    """The parent's end of the socket: answers settle the futures of their requests."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.lost = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._chunk = bytearray(READ_SIZE)
        self._outgoing: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, data: bytes) -> None:
        """Requests made in one turn of the event loop leave in one write: one system call
        here, and the child reads them as one group."""
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.append(data)

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if self.transport is not None:
            # No flow control: requests are bounded by the callers waiting on them.
            self.transport.write(data)

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self._chunk)

    def buffer_updated(self, nbytes: int) -> None:
        self._buffer += memoryview(self._chunk)[:nbytes]
        for request_id, ok, value in split_frames(self._buffer):
            future = self.pending.pop(request_id, None)
            if future is None or future.done():  # its caller gave up; the change stands
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def connection_lost(self, exc: Exception | None) -> None:
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WriterUnavailable(
                    "the writer process stopped before answering; the change may or may "
                    "not have been made"))
        if not self.lost.done():
            self.lost.set_result(None)


class WriterProcess:
    def __init__(self, db_url: str, handler: object, *, name: str = "db-writer") -> None:
        self._db_url = db_url
        self._handler = handler
        self._name = name
        self._ids = itertools.count(READY + 1)
        self._channel: _Channel | None = None  # set while a child serves
        self._process: asyncio.subprocess.Process | None = None
        self._serving = asyncio.Event()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def serving(self) -> bool:
        """A child is up and answering (false while one that died is being replaced)."""
        return self._channel is not None

    async def start(self) -> None:
        """Start the child and wait until it serves; raises if it cannot."""
        channel = await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(channel),
                                               name=f"{self._name}-watch")

    async def call(self, method: str, *args: Any, wait_for_start: float = 10.0) -> Any:
        """handler.method(connection, *args) in one transaction of the child; raises what
        it raised, or WriterUnavailable if no child serves within wait_for_start seconds."""
        channel = self._channel
        if channel is None:  # it died and another is starting, or it was stopped
            if not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._serving.wait(), wait_for_start)
            channel = self._channel
            if channel is None:
                raise WriterUnavailable("the writer process is stopped" if self._stopping else
                                        "the writer process is restarting; try again")
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        channel.pending[request_id] = future
        channel.send(frame((request_id, method, args)))
        return await future

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the child answer what it was asked, then end it."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        channel, process = self._channel, self._process
        self._channel = None
        self._serving.set()  # calls waiting for a restart: there will be none
        if channel is not None and channel.transport is not None:
            channel.transport.write_eof()  # the child finishes its requests, then exits
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(channel.lost), timeout)
            channel.transport.close()
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                log.error("%s did not stop; killing it", self._name)
                process.kill()
                await process.wait()

    async def _spawn(self) -> _Channel:
        parent_end, child_end = socket.socketpair()
        try:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "store.writer_process", str(child_end.fileno()),
                pass_fds=(child_end.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env)
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        loop = asyncio.get_running_loop()
        _, channel = await loop.create_unix_connection(_Channel, sock=parent_end)
        ready = loop.create_future()
        channel.pending[READY] = ready
        assert channel.transport is not None
        channel.transport.write(frame((self._db_url, self._handler)))
        try:
            await asyncio.wait_for(ready, START_TIMEOUT)
        except BaseException:
            channel.transport.close()
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()
            raise
        self._channel = channel
        channel.lost.add_done_callback(lambda _: self._lost(channel))
        self._serving.set()
        log.info("%s serving (pid %s)", self._name, self._process.pid)
        return channel

    def _lost(self, channel: _Channel) -> None:
        """New calls wait for the next child from the moment this one's socket closes."""
        if self._channel is channel:
            self._channel = None
            self._serving.clear()

    async def _supervise(self, channel: _Channel) -> None:
        """The child died: fail what it had not answered, start another."""
        deaths = 0  # in a row, each soon after its start
        while not self._stopping:
            assert self._process is not None
            code = await self._process.wait()
            if channel.transport is not None:
                channel.transport.close()
            await channel.lost
            log.error("%s exited with %s; starting another", self._name, code)
            while not self._stopping:
                await asyncio.sleep(RESTART_DELAYS[min(deaths, len(RESTART_DELAYS) - 1)])
                deaths += 1
                try:
                    channel = await self._spawn()
                    break
                except Exception:
                    log.exception("%s did not start; trying again", self._name)
            try:
                await asyncio.wait_for(asyncio.shield(self._process.wait()), SERVED_A_WHILE)
            except TimeoutError:
                deaths = 0  # it served a while: a later death starts the delays afresh


# -- the child's side --------------------------------------------------------------------------


@dataclass
class _Request:
    request_id: int
    work: Callable[..., Any]  # the handler's method, run as work(connection, *args)
    args: tuple[Any, ...]


def _method(handler: object, name: str) -> Callable[..., Any]:
    """handler.<name>; for a name it lacks, work that fails its own job, not the process."""
    try:
        return getattr(handler, name)
    except AttributeError:
        def unknown(conn: Connection, *args: Any) -> Any:
            raise AttributeError(f"{type(handler).__name__} has no method {name!r}")
        return unknown


class _Inbox:
    """The child's end of the socket: blocking reads, frames out."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.on_idle: Callable[[], None] = lambda: None  # called before waiting for frames
        self._buffer = bytearray()
        self._chunk = bytearray(READ_SIZE)
        self.closed = False

    def take(self, limit: int) -> list[Any]:
        """Every frame that has arrived, up to limit; waits only if none has (after
        on_idle). [] at the end."""
        while True:
            self._read_arrived()
            values = split_frames(self._buffer, limit)
            if values or self.closed:
                return values
            self.on_idle()
            if not self._read_arrived():  # what came in meanwhile is served at once
                self._read(block=True)

    def _read_arrived(self) -> bool:
        """Read what is there without waiting; whether there was anything."""
        arrived = False
        while not self.closed and self._read(block=False):
            arrived = True
        return arrived

    def _read(self, *, block: bool) -> bool:
        try:
            size = self._sock.recv_into(self._chunk, 0, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        if not size:
            self.closed = True
        self._buffer += memoryview(self._chunk)[:size]
        return size > 0


def _answer(request_id: int, result: Any, error: BaseException | None) -> bytes:
    if error is None:
        try:
            return frame((request_id, True, result))
        except Exception as exc:  # an answer that does not pickle is the handler's bug
            error = exc
    text = "in the writer process:\n" + "".join(traceback.format_exception(error))
    error.add_note(text)
    try:
        encoded = frame((request_id, False, error))
        pickle.loads(encoded[HEADER.size:])  # it must come back whole, or as a RuntimeError
        return encoded
    except Exception:
        return frame((request_id, False, RuntimeError(text)))


def serve(sock: socket.socket) -> None:
    """The child: receive (db_url, handler), connect, then answer requests until EOF."""
    from store.checkpoints import Checkpointer
    from store.group_commit import MAX_BATCH, WriterConnection
    from store.sqlite import writer_engine

    inbox = _Inbox(sock)
    first = inbox.take(1)
    if not first:
        return
    db_url, handler = first[0]
    engine = writer_engine(db_url, autocheckpoint=False)
    connection = WriterConnection(engine)
    connection.connect()  # a database it cannot open fails the start, not a first request
    checkpointer = Checkpointer(str(engine.url.database))
    inbox.on_idle = checkpointer.idle
    sock.sendall(frame((READY, True, None)))
    gc.collect()
    gc.freeze()  # modules and the handler live as long as the process: never walk them
    try:
        while requests := inbox.take(MAX_BATCH):
            outcomes = connection.commit([_Request(request_id, _method(handler, name), args)
                                          for request_id, name, args in requests])
            sock.sendall(b"".join(_answer(request.request_id, result, error)
                                  for request, result, error in outcomes))
            checkpointer.committed()
    finally:
        checkpointer.close()
        connection.close()
        engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s writer %(levelname)s %(name)s: %(message)s")
    # Ctrl-C reaches the whole process group: the parent stops the hotline, then closes
    # the socket, and this process ends after its last answer, not mid-transaction.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        serve(sock)
    except (BrokenPipeError, ConnectionResetError):  # the parent is gone: nothing to answer
        pass
    finally:
        sock.close()


if __name__ == "__main__":
    main()
