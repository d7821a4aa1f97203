"""An operator's or supervisor's browser as far as the websocket goes: it collects every
frame the hotline sends it (screen pops, transfer states, live transcripts)."""

import asyncio
import contextlib

import aiohttp


class Browser:
    """An operator's console: a websocket that collects every message it is sent."""

    def __init__(self, stack, token):
        self.url = f"{stack.base_url.replace('http', 'ws')}/ws?token={token}"
        self.messages: list[dict] = []
        self._task = None

    async def __aenter__(self):
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(self.url)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self):
        async for message in self._ws:
            self.messages.append(message.json())

    async def wait_for(self, kind, timeout=30):
        for _ in range(int(timeout * 10)):
            found = [m for m in self.messages if m["type"] == kind]
            if found:
                return found[-1]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {kind} within {timeout}s; got {self.messages}")

    def kinds(self):
        return [m["type"] for m in self.messages]

    async def __aexit__(self, *exc):
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._ws.close()
        await self._http.close()
