"""The units at the carrier trunk, for the transfer benchmark: a minimal SIP answerer on
UDP that notes when each INVITE arrives (on the same monotonic clock as the benchmark)
and answers it at once. No media: Asterisk sends RTP nowhere, which costs it nothing."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import cast

_HEADER = re.compile(r"^([A-Za-z-]+):\s*(.*)$", re.M)


@dataclass
class Invite:
    at: float
    uri: str
    headers: dict[str, str]


@dataclass
class SipUnit(asyncio.DatagramProtocol):
    invites: list[Invite] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        at = time.monotonic()
        text = data.decode(errors="replace")
        first, _, rest = text.partition("\r\n")
        if first.startswith("SIP/2.0"):
            return  # a response to something Asterisk asked (none expected)
        method, uri = first.split(" ", 2)[:2]
        headers = {k.lower(): v.strip() for k, v in _HEADER.findall(rest.split("\r\n\r\n")[0])}
        if method == "INVITE":
            if headers.get("to", "").find("tag=") < 0:  # not a re-INVITE
                self.invites.append(Invite(at, uri, headers))
                self.arrived.set()
            self._reply(addr, headers, "100 Trying")
            self._reply(addr, headers, "200 OK", sdp=True)
        elif method in ("BYE", "OPTIONS", "CANCEL", "UPDATE", "INFO"):
            self._reply(addr, headers, "200 OK")

    def _reply(self, addr: tuple[str, int], headers: dict[str, str], status: str,
               sdp: bool = False) -> None:
        assert self.transport is not None
        to = headers.get("to", "")
        if "tag=" not in to and status.startswith("200"):
            to += ";tag=unit" + headers.get("call-id", "")[:8]
        host, port = self.transport.get_extra_info("sockname")[:2]
        body = (f"v=0\r\no=unit 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
                f"m=audio {port + 2} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n") if sdp else ""
        lines = [f"SIP/2.0 {status}", f"Via: {headers.get('via', '')}",
                 f"From: {headers.get('from', '')}", f"To: {to}",
                 f"Call-ID: {headers.get('call-id', '')}", f"CSeq: {headers.get('cseq', '')}",
                 f"Contact: <sip:unit@{host}:{port}>"]
        if sdp:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.transport.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), addr)

    def invite_for(self, header: str, value: str) -> Invite | None:
        return next((i for i in self.invites if i.headers.get(header) == value), None)


async def serve(port: int) -> SipUnit:
    loop = asyncio.get_running_loop()
    _, unit = await loop.create_datagram_endpoint(SipUnit, local_addr=("127.0.0.1", port))
    return unit
