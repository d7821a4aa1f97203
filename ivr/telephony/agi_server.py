"""FastAGI over asyncio, written to survive what panoramisk does not: a peer that closes
before its headers, garbage bytes, replies that never come, and callers who hang up
mid-command. The only module that speaks the AGI wire protocol."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ivr.errors import AgiError, ChannelHungUp
from ivr.log_format import bind_call

log = logging.getLogger(__name__)

MAX_HEADER_LINES = 200
HEADER_TIMEOUT = 5.0
COMMAND_TIMEOUT = 10.0
# Media commands last as long as the prompt plus the caller's thinking time.
MEDIA_TIMEOUT = 180.0
ALL_DIGITS = "0123456789*#"

_REPLY = re.compile(
    r"^(?P<code>\d{3})[ -]result=(?P<result>\S*)(?: \((?P<data>[^)]*)\))?(?P<rest>.*)$"
)


@dataclass(frozen=True)
class AgiRequest:
    headers: dict[str, str]

    @property
    def script(self) -> str:
        """The route: agi://host:port/<script>?args → <script>."""
        return self.headers.get("agi_network_script", "").split("?", 1)[0].strip("/")

    @property
    def unique_id(self) -> str:
        return self.headers.get("agi_uniqueid", "")

    @property
    def caller(self) -> str:
        number = self.headers.get("agi_callerid", "")
        return "" if number == "unknown" else number

    @property
    def channel(self) -> str:
        return self.headers.get("agi_channel", "")


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str
    data: str

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"


async def read_request(reader: asyncio.StreamReader) -> AgiRequest:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        try:
            raw = await reader.readline()
        except (ValueError, asyncio.LimitOverrunError):
            raise AgiError("header line too long") from None
        if not raw:
            raise AgiError("connection closed before the AGI headers ended")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if "agi_network_script" not in headers:
                raise AgiError("AGI headers without agi_network_script")
            return AgiRequest(headers)
        key, sep, value = line.partition(": ")
        if not sep or not key.startswith("agi_"):
            raise AgiError(f"not an AGI header: {line[:60]!r}")
        headers[key] = value
    raise AgiError(f"more than {MAX_HEADER_LINES} AGI header lines")


def parse_reply(line: str) -> AgiReply:
    match = _REPLY.match(line)
    if not match:
        raise AgiError(f"unparseable AGI reply: {line[:80]!r}")
    return AgiReply(int(match["code"]), match["result"], match["data"] or "")


class AgiChannel:
    """One caller's channel, as seen through a FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 request: AgiRequest) -> None:
        self._reader = reader
        self._writer = writer
        self.request = request
        self.hung_up = False

    async def execute(self, command: str, timeout: float = COMMAND_TIMEOUT) -> AgiReply:
        if self.hung_up:
            raise ChannelHungUp(command)
        if "\n" in command or "\r" in command:
            raise AgiError("an AGI command is one line")
        try:
            self._writer.write(command.encode() + b"\n")
            await asyncio.wait_for(self._writer.drain(), timeout)
            reply = await asyncio.wait_for(self._read_reply(), timeout)
        except TimeoutError:
            raise AgiError(f"no reply to {command.split()[0]} within {timeout:.0f}s") from None
        except (ConnectionError, asyncio.IncompleteReadError):
            self.hung_up = True
            raise ChannelHungUp(command) from None
        if reply.code == 511:
            self.hung_up = True
            raise ChannelHungUp(command)
        if reply.code != 200:
            raise AgiError(f"{command.split()[0]} answered {reply.code}")
        if reply.result == "-1":
            # -1 from a media or channel command means the channel is gone.
            self.hung_up = True
            raise ChannelHungUp(command)
        return reply

    async def _read_reply(self) -> AgiReply:
        while True:
            raw = await self._reader.readline()
            if not raw:
                raise asyncio.IncompleteReadError(b"", None)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == "HANGUP":  # sent asynchronously when the caller hangs up
                self.hung_up = True
                continue
            if line.startswith("520-"):  # multi-line usage text ends with "520 End of ..."
                while True:
                    more = await self._reader.readline()
                    if not more:
                        raise asyncio.IncompleteReadError(b"", None)
                    if more.startswith(b"520 "):
                        return AgiReply(520, "", "")
            return parse_reply(line)

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str:
        """Play a prompt and collect up to max_digits keys; '' when the caller keyed nothing."""
        reply = await self.execute(f"GET DATA {prompt} {timeout_ms} {max_digits}",
                                   timeout=MEDIA_TIMEOUT)
        return reply.result

    async def stream_file(self, prompt: str, escape_digits: str = ALL_DIGITS) -> str:
        """Play a prompt; returns the key that interrupted it, or ''."""
        reply = await self.execute(f'STREAM FILE {prompt} "{escape_digits}"',
                                   timeout=MEDIA_TIMEOUT)
        code = int(reply.result or 0)
        return chr(code) if code > 0 else ""

    async def wait_for_digit(self, timeout_ms: int) -> str:
        reply = await self.execute(f"WAIT FOR DIGIT {timeout_ms}",
                                   timeout=timeout_ms / 1000 + COMMAND_TIMEOUT)
        code = int(reply.result or 0)
        return chr(code) if code > 0 else ""

    async def set_variable(self, name: str, value: str) -> None:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        await self.execute(f'SET VARIABLE {name} "{escaped}"')

    async def get_variable(self, name: str) -> str | None:
        reply = await self.execute(f"GET VARIABLE {name}")
        return reply.data if reply.result == "1" else None


Handler = Callable[[AgiChannel], Awaitable[None]]
# (route, why) for a route that ended without carrying its caller through: "no_route",
# "over_budget", "agi_error", "crashed"; the dialplan's fallback then takes the caller.
RouteFailed = Callable[[str, str], None]


class FastAgiServer:
    def __init__(self, routes: dict[str, Handler], host: str, port: int, *,
                 route_budget: float = 300.0, on_route_failed: RouteFailed | None = None
                 ) -> None:
        # Looked up per connection, so a route can be swapped while calls are running.
        self.routes = routes
        self._host = host
        self._port = port
        # Asterisk waits for a FastAGI script as long as its socket is open; a route that
        # outlives its budget is cut off so the dialplan can take the caller onwards.
        self._route_budget = route_budget
        self._on_route_failed = on_route_failed  # the composition root counts them
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        # Raw sockets of the calls in progress, for abort_all() from a watchdog thread.
        self._sockets: dict[int, Any] = {}  # asyncio TransportSocket: has shutdown()
        self._sockets_lock = threading.Lock()

    @property
    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    @property
    def active_calls(self) -> int:
        return len(self._handlers)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self._host, self._port, limit=8192, reuse_address=True
        )
        log.info("FastAGI listening on %s:%s", self._host, self._port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # A cancelled handler closes its socket; the dialplan sees no route and
        # sends the caller on to the operator queue.
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    def abort_all(self) -> int:
        """Shut every call's socket; safe from any thread, even while the loop is blocked.

        Asterisk sees the script end, finds no route set, and sends the caller to the queue.
        """
        with self._sockets_lock:
            sockets = list(self._sockets.values())
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return len(sockets)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with self._sockets_lock:
                self._sockets[id(task)] = sock
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Only stop() cancels handlers. Ending normally keeps asyncio's stream callback
            # quiet; closing the socket hands the caller back to the dialplan's fallback.
            log.info("AGI %s handed back to the dialplan: service stopping",
                     writer.get_extra_info("peername"))
        finally:
            self._handlers.discard(task)
            with self._sockets_lock:
                self._sockets.pop(id(task), None)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            request = await asyncio.wait_for(read_request(reader), HEADER_TIMEOUT)
        except TimeoutError:
            log.warning("AGI peer %s sent no complete request in %.0fs", peer, HEADER_TIMEOUT)
            return
        except AgiError as exc:
            log.warning("AGI peer %s: %s", peer, exc)
            return
        # The connection's task serves this call alone: its lines, and those of every task
        # the route starts, carry the call's id (the citizen channel's unique id).
        bind_call(request.unique_id)
        handler = self.routes.get(request.script)
        if handler is None:
            log.error("no AGI route %r (channel %s); the dialplan falls back",
                      request.script, request.channel)
            self._failed("", "no_route")  # not its name: any peer may send any name
            return
        channel = AgiChannel(reader, writer, request)
        try:
            async with asyncio.timeout(self._route_budget):
                await handler(channel)
        except TimeoutError:
            log.error("AGI %s on %s ran past its %.0fs budget; handing the caller back",
                      request.script, request.channel, self._route_budget)
            self._failed(request.script, "over_budget")
        except ChannelHungUp:
            log.info("caller on %s hung up during %s", request.channel, request.script)
        except AgiError as exc:
            log.error("AGI %s on %s: %s", request.script, request.channel, exc)
            self._failed(request.script, "agi_error")
        except Exception:
            log.exception("AGI route %s failed on %s; the dialplan falls back",
                          request.script, request.channel)
            self._failed(request.script, "crashed")

    def _failed(self, route: str, why: str) -> None:
        if self._on_route_failed is not None:
            self._on_route_failed(route, why)
