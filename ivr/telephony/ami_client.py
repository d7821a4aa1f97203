"""Asterisk Manager Interface client that stays true to the PBX.

Unlike panoramisk: `wait_connected` returns only after the login succeeded and Asterisk
has fully booted (AMI accepts a login before modules such as app_queue have registered
their actions); every action has a timeout; the keep-alive Ping must be answered or the
connection is dropped; after a reconnect nothing pending is re-sent (an Originate must
never ring twice) and the `on_connected` hook re-reads live state instead of trusting old
events. The hook runs beside the keep-alive, so a resynchronisation that retries for a
while never leaves the connection unwatched; it is cancelled if the connection drops.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ivr.errors import AmiActionFailed, AmiError, AmiNotConnected, AmiTimeout
from store.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Message = dict[str, str]
EventHandler = Callable[[Message], None]
ConnectedHook = Callable[[], Awaitable[None]]
DisconnectedHook = Callable[[], None]

# `core waitfullybooted` returns once every module is loaded; on a booted Asterisk at once.
BOOT_TIMEOUT = 60.0


def parse_message(frame: bytes) -> Message:
    """One AMI frame (lines of `Key: Value`) → dict. Lines without a colon are kept as Output."""
    message: Message = {}
    output: list[str] = []
    for raw in frame.decode("utf-8", "replace").split("\r\n"):
        if not raw:
            continue
        key, sep, value = raw.partition(":")
        if sep and key and " " not in key:
            value = value[1:] if value.startswith(" ") else value
            if key == "Output":
                output.append(value)
            elif key in message:  # repeated keys (ChanVariable) are joined, not lost
                message[key] += "\n" + value
            else:
                message[key] = value
        else:
            output.append(raw)
    if output:
        message["Output"] = "\n".join(output)
    return message


def format_action(action: str, action_id: str, fields: dict[str, str | list[str]]) -> bytes:
    lines = [f"Action: {action}", f"ActionID: {action_id}"]
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            text = str(item)
            if "\r" in text or "\n" in text:
                raise AmiError(f"AMI field {key} must be one line")
            lines.append(f"{key}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class _Pending:
    future: asyncio.Future[list[Message]]
    is_list: bool = False
    messages: list[Message] = field(default_factory=list)


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str, *,
                 on_event: EventHandler | None = None,
                 on_connected: ConnectedHook | None = None,
                 on_disconnected: DisconnectedHook | None = None,
                 action_timeout: float = 5.0, ping_interval: float = 5.0,
                 connect_timeout: float = 5.0, max_backoff: float = 5.0) -> None:
        self._host, self._port = host, port
        self._username, self._secret = username, secret
        self.on_event = on_event
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self._action_timeout = action_timeout
        self._ping_interval = ping_interval
        self._connect_timeout = connect_timeout
        self._max_backoff = max_backoff
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._logged_in = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.connections = 0  # how many times a login succeeded (for health and tests)

    @property
    def connected(self) -> bool:
        return self._logged_in.is_set()

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="ami-connection")

    async def stop(self) -> None:
        await cancel_and_wait(self._runner)
        self._runner = None

    async def wait_connected(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._logged_in.wait(), timeout)
        except TimeoutError:
            raise AmiNotConnected(f"AMI not logged in after {timeout:.0f}s") from None

    async def action(self, action: str, timeout: float | None = None,
                     **fields: str | list[str]) -> Message:
        """Send one action; returns its response, raises AmiActionFailed on Response: Error."""
        if not self.connected:
            raise AmiNotConnected(f"cannot send {action}: AMI is not connected")
        return (await self._send(action, fields, timeout, is_list=False))[0]

    async def list_action(self, action: str, timeout: float | None = None,
                          **fields: str | list[str]) -> list[Message]:
        """Send an action answered by an event list; returns the events (without the markers)."""
        if not self.connected:
            raise AmiNotConnected(f"cannot send {action}: AMI is not connected")
        messages = await self._send(action, fields, timeout, is_list=True)
        return [m for m in messages[1:] if "EventList" not in m]

    async def _send(self, action: str, fields: dict[str, str | list[str]],
                    timeout: float | None, is_list: bool) -> list[Message]:
        writer = self._writer
        if writer is None:
            raise AmiNotConnected(f"cannot send {action}: AMI is not connected")
        action_id = f"hotline-{next(self._ids)}"
        pending = _Pending(asyncio.get_running_loop().create_future(), is_list)
        self._pending[action_id] = pending
        try:
            writer.write(format_action(action, action_id, fields))
            async with asyncio.timeout(timeout or self._action_timeout):
                await writer.drain()
                messages = await pending.future
        except TimeoutError:
            raise AmiTimeout(f"{action} not answered within "
                             f"{timeout or self._action_timeout:.1f}s") from None
        except ConnectionError as exc:
            raise AmiNotConnected(f"{action}: {exc}") from None
        finally:
            self._pending.pop(action_id, None)
        if messages[0].get("Response") == "Error":
            raise AmiActionFailed(f"{action}: {messages[0].get('Message', 'error')}")
        return messages

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._connect_and_serve()
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, AmiError, asyncio.IncompleteReadError) as exc:
                log.warning("AMI connection to %s:%s lost: %s", self._host, self._port,
                            exc or type(exc).__name__)
            except Exception:
                log.exception("AMI connection failed unexpectedly")
            finally:
                self._disconnected()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)
            if self.connections:  # reconnecting after a success starts quickly again
                backoff = min(backoff, 1.0)

    async def _connect_and_serve(self) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self._host, self._port, limit=1 << 20),
            self._connect_timeout,
        )
        self._writer = writer
        banner = await asyncio.wait_for(reader.readline(), self._connect_timeout)
        if not banner.startswith(b"Asterisk Call Manager"):
            raise AmiError(f"not an AMI banner: {banner[:40]!r}")
        reading = asyncio.create_task(self._read_frames(reader), name="ami-reader")
        hook: asyncio.Task[None] | None = None
        try:
            await self._send("Login", {"Username": self._username, "Secret": self._secret,
                                       "Events": "on"}, self._connect_timeout, is_list=False)
            await self._wait_fully_booted()
            self.connections += 1
            self._logged_in.set()
            log.info("AMI logged in to %s:%s", self._host, self._port)
            if self.on_connected:
                hook = asyncio.create_task(self._connected_hook(self.on_connected),
                                           name="ami-on-connected")
            await self._keep_alive(reading)
        finally:
            reading.cancel()
            if hook is not None:
                hook.cancel()
            # gather, not suppress(CancelledError): if stop() cancels us right here, that
            # cancellation must not be swallowed, or the connect loop would run on forever.
            await asyncio.gather(reading, *([hook] if hook else []), return_exceptions=True)

    async def _wait_fully_booted(self) -> None:
        """Block until Asterisk has loaded every module: before that, actions of modules
        still loading (QueueAdd, QueuePause...) answer "Invalid/unknown command"."""
        await self._send("Command", {"Command": "core waitfullybooted"}, BOOT_TIMEOUT,
                         is_list=False)

    @staticmethod
    async def _connected_hook(hook: ConnectedHook) -> None:
        try:
            await hook()
        except Exception:
            log.exception("AMI resynchronisation failed")

    async def _keep_alive(self, reading: asyncio.Task[None]) -> None:
        while True:
            done, _ = await asyncio.wait({reading}, timeout=self._ping_interval)
            if done:
                reading.result()  # re-raises why the reader stopped
                raise AmiError("AMI connection closed by Asterisk")
            # An unanswered Ping means a dead connection even if TCP has not noticed.
            await self._send("Ping", {}, self._action_timeout, is_list=False)

    async def _read_frames(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                frame = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError as exc:
                log.error("AMI frame over %s bytes dropped", exc.consumed)
                await reader.readexactly(exc.consumed)
                continue
            message = parse_message(frame)
            if not message:
                continue
            self._dispatch(message)

    def _dispatch(self, message: Message) -> None:
        pending = self._pending.get(message.get("ActionID", ""))
        if pending is not None and not pending.future.done():
            pending.messages.append(message)
            if message.get("EventList") == "start":
                pending.is_list = True
            if (not pending.is_list or message.get("EventList") == "Complete"
                    or message.get("Response") == "Error"):
                pending.future.set_result(pending.messages)
            return  # a reply, or an event of a list reply: not a live event
        if "Event" in message and self.on_event:
            try:
                self.on_event(message)
            except Exception:
                log.exception("AMI event handler failed on %s", message.get("Event"))

    def _disconnected(self) -> None:
        was_connected = self._logged_in.is_set()
        self._logged_in.clear()
        if was_connected and self.on_disconnected:
            self.on_disconnected()
        for action_id, pending in list(self._pending.items()):
            if not pending.future.done():
                # Fail, never re-send: the caller decides whether repeating is safe.
                pending.future.set_exception(
                    AmiNotConnected(f"connection lost before {action_id} was answered")
                )
        self._pending.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
