"""The ARI steps of a live audio tap, and nothing else: for one side of a call, a snoop
channel on the citizen's channel (spy=in: what the citizen says; spy=out: what they hear
— operator, unit, the three-way call), an externalMedia channel that streams it to our
AudioSocket server, and a mixing bridge joining the two.

The snoop hangs on the citizen's channel itself, so it follows the call through the queue,
every Redirect into a transfer room and the conference. When the citizen hangs up the
snoop ends by itself, but the externalMedia channel and the bridge stay until deleted
(Asterisk 22.10 source, res_stasis_snoop.c): `close` removes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Literal

from ivr.telephony.ari_client import AriClient, AriError, AriEvent

log = logging.getLogger(__name__)

APP = "hotline-speech"
Spy = Literal["in", "out"]
STASIS_TIMEOUT = 5.0


@dataclass
class Tap:
    call_id: str
    spy: Spy
    stream_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def snoop(self) -> str:
        return f"tap-{self.spy}-{self.call_id}"

    @property
    def media(self) -> str:
        return f"tapmedia-{self.spy}-{self.call_id}"

    @property
    def bridge(self) -> str:
        return f"tapbridge-{self.spy}-{self.call_id}"


class TapControl:
    def __init__(self, ari: AriClient, audiosocket_host: str, audiosocket_port: int) -> None:
        self._ari = ari
        self._host = f"{audiosocket_host}:{audiosocket_port}"
        self._in_stasis: dict[str, asyncio.Future[None]] = {}  # channel id → entered

    def on_event(self, event: AriEvent) -> None:
        """From the ARI websocket: channels entering our application."""
        channel = (event.get("channel") or {}).get("id", "")
        if event.get("type") == "StasisStart":
            waiting = self._in_stasis.get(channel)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    async def open(self, tap: Tap) -> None:
        """Start streaming one side of the call to the AudioSocket server (the stream
        arrives there as `tap.stream_id`). AriError if any step fails; what was made is
        removed again."""
        loop = asyncio.get_running_loop()
        entered = {name: loop.create_future() for name in (tap.snoop, tap.media)}
        self._in_stasis.update(entered)
        try:
            await self._ari.request("POST", "/bridges", type="mixing", bridgeId=tap.bridge,
                                    name=tap.bridge)
            await self._ari.request("POST", f"/channels/{tap.call_id}/snoop", spy=tap.spy,
                                    app=APP, snoopId=tap.snoop)
            await self._ari.request(
                "POST", "/channels/externalMedia", app=APP, channelId=tap.media,
                external_host=self._host, encapsulation="audiosocket", transport="tcp",
                format="slin", data=tap.stream_id)
            try:
                async with asyncio.timeout(STASIS_TIMEOUT):
                    await asyncio.gather(*entered.values())
            except TimeoutError:
                raise AriError(f"tap {tap.snoop}: its channels never reached "
                               f"{APP}") from None
            # The media channel is muted in the bridge: the silence our server sends to keep
            # Asterisk reading (ivr/telephony/audiosocket.py) goes nowhere.
            await self._ari.request("POST", f"/bridges/{tap.bridge}/addChannel",
                                    channel=tap.snoop)
            await self._ari.request("POST", f"/bridges/{tap.bridge}/addChannel",
                                    channel=tap.media, mute="true")
        except AriError:
            await self.close(tap)
            raise
        finally:
            for name in entered:
                self._in_stasis.pop(name, None)

    async def close(self, tap: Tap) -> None:
        """Remove what the tap made; what is gone already is not an error."""
        for method, path in (("DELETE", f"/channels/{tap.snoop}"),
                             ("DELETE", f"/channels/{tap.media}"),
                             ("DELETE", f"/bridges/{tap.bridge}")):
            with contextlib.suppress(AriError):
                await self._ari.request(method, path)
