"""A citizen's call reduced to what a reload could slow: INVITE 12345 from the carrier's
address, and the time until Asterisk's 200 OK (the dialplan answers in hotline-inbound),
then ACK and BYE. One UDP socket, no media, no SIPp process start in the measurement."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from typing import cast

_calls = itertools.count(1)


class _Probe(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.responses: asyncio.Queue[str] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        text = data.decode(errors="replace")
        if text.startswith(("SIP/2.0", "BYE")):  # responses; a BYE: the hotline hung up
            self.responses.put_nowait(text)


def _header(text: str, name: str) -> str:
    for line in text.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


async def answer_time(sip_port: int, caller: str, timeout: float = 10.0) -> float:
    """Seconds from the INVITE to the 200 OK; raises TimeoutError if none came."""
    loop = asyncio.get_running_loop()
    transport, probe = await loop.create_datagram_endpoint(
        _Probe, local_addr=("127.0.0.1", 0), remote_addr=("127.0.0.1", sip_port))
    host, port = transport.get_extra_info("sockname")[:2]
    call_id, tag, n = uuid.uuid4().hex, uuid.uuid4().hex[:8], next(_calls)
    sdp = (f"v=0\r\no=probe {n} 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
           f"m=audio {port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

    def request(method: str, cseq: int, to_tag: str = "", body: str = "") -> bytes:
        lines = [f"{method} sip:12345@127.0.0.1:{sip_port} SIP/2.0",
                 f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{uuid.uuid4().hex[:12]}",
                 "Max-Forwards: 70", f"From: <sip:{caller}@{host}>;tag={tag}",
                 f"To: <sip:12345@127.0.0.1>{to_tag}", f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}", f"Contact: <sip:{caller}@{host}:{port}>"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    try:
        sent = time.monotonic()
        transport.sendto(request("INVITE", 1, body=sdp))
        async with asyncio.timeout(timeout):
            while True:
                response = await probe.responses.get()
                if response.startswith("SIP/2.0 200") and "INVITE" in _header(response, "CSeq"):
                    took = time.monotonic() - sent
                    break
                if response.startswith(("SIP/2.0 4", "SIP/2.0 5", "SIP/2.0 6")):
                    raise RuntimeError(f"call refused: {response.splitlines()[0]}")
        to = _header(response, "To")
        to_tag = ";" + to.split(";", 1)[1] if ";" in to else ""
        transport.sendto(request("ACK", 1, to_tag))
        transport.sendto(request("BYE", 2, to_tag))
        # The call ends on Asterisk's side regardless: the BYE's answer is not measured.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(probe.responses.get(), 2)
        return took
    finally:
        transport.close()
