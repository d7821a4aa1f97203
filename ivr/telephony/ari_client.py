"""ARI, Asterisk's REST interface, for what AMI cannot do: snoop channels (one direction of
a channel's audio) and externalMedia channels (that audio out over a socket). The only
module that speaks ARI.

The Stasis application must be connected (the events websocket) before Asterisk will put
a snoop or externalMedia channel into it, so `connected` means that websocket is up. It
reconnects by itself, like the AMI client; a request while it is down fails at once
(AriError) rather than queueing: the caller decides what a tap that cannot start means.
Requests are never re-sent after a failure (a POST that reached Asterisk may have acted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from ivr.errors import HotlineError
from store.tasks import cancel_and_wait

log = logging.getLogger(__name__)

AriEvent = dict[str, Any]


class AriError(HotlineError):
    """ARI refused or did not answer; `status` is the HTTP status (0: no answer)."""

    http_status = 503

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class AriClient:
    def __init__(self, host: str, port: int, user: str, password: str, app: str, *,
                 on_event: Callable[[AriEvent], None] | None = None,
                 request_timeout: float = 5.0, max_backoff: float = 5.0) -> None:
        self._base = f"http://{host}:{port}/ari"
        self._auth = aiohttp.BasicAuth(user, password)
        self.app = app
        self.on_event = on_event
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._max_backoff = max_backoff
        self._session: aiohttp.ClientSession | None = None
        self._connected = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.connections = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(auth=self._auth, timeout=self._timeout)
        self._runner = asyncio.create_task(self._run(), name="ari-events")

    async def stop(self) -> None:
        await cancel_and_wait(self._runner)
        self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def wait_connected(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise AriError(f"ARI application {self.app} not connected after "
                           f"{timeout:.0f}s") from None

    async def request(self, method: str, path: str, **params: str) -> Any:
        """One REST call; its JSON answer (None for 204). AriError names what went wrong."""
        if self._session is None or not self.connected:
            raise AriError(f"{method} {path}: ARI is not connected")
        try:
            async with self._session.request(method, f"{self._base}{path}",
                                             params=params) as response:
                if response.status == 204:
                    return None
                text = await response.text()
                if response.status >= 300:
                    raise AriError(f"{method} {path}: {response.status} {_message(text)}",
                                   response.status)
                return await response.json(content_type=None) if text else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AriError(f"{method} {path}: {exc or type(exc).__name__}") from None

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("ARI events for %s lost: %s", self.app, exc or type(exc).__name__)
            except Exception:
                log.exception("ARI events failed unexpectedly")
            finally:
                self._connected.clear()
            await asyncio.sleep(backoff)
            backoff = 1.0 if self.connections else min(backoff * 2, self._max_backoff)

    async def _listen(self) -> None:
        assert self._session is not None
        async with self._session.ws_connect(
                f"{self._base}/events", params={"app": self.app}, heartbeat=10,
                timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
            self.connections += 1
            self._connected.set()
            log.info("ARI application %s connected", self.app)
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                try:
                    event = message.json()
                except ValueError:
                    log.warning("ARI sent a frame that is not JSON: %.80s", message.data)
                    continue
                if self.on_event is not None and isinstance(event, dict):
                    try:
                        self.on_event(event)
                    except Exception:
                        log.exception("ARI event handler failed on %s", event.get("type"))


def _message(text: str) -> str:
    """ARI's {"message": "..."} error body, or the text itself."""
    with contextlib.suppress(ValueError):
        import json

        body = json.loads(text)
        if isinstance(body, dict) and "message" in body:
            return str(body["message"])
    return text[:200]
