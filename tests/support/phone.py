"""A SIPp phone that stays up for a whole test: a unit at the carrier trunk, or a seat phone
that answers every call it is given. What it does with each INVITE is its behaviour:

  answer   180, then 200 with PCMA; talks (a minute of SIPp's speech sample, or the pcap
           given) into the call; waits for the BYE
  busy     486 Busy Here
  reject   603 Decline
  ring     180 and nothing more, until the caller gives up (CANCEL → 487)

It answers Asterisk's keep-alive OPTIONS. `trace()` is every SIP message it saw, so a test
can read the INVITE's headers. Bounded: SIPp's own -timeout, and stop() kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import tempfile
from pathlib import Path
from typing import Any

from tests.support.sipp import OK_TO_LAST_REQUEST, free_udp_port, register
from tests.support.tone import speech_pcap

_SDP = """Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000"""


def _response(status: str, body: str = "Content-Length: 0") -> str:
    """The phone's answer to the INVITE (its To tag, its Contact), with a body or none."""
    return f"""  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]Phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      {body}
    ]]>
  </send>
"""


_ANSWER = ('  <pause milliseconds="{ring_ms}"/>\n' + _response("200 OK", _SDP)
           + '  <recv request="ACK"/>\n'
           '  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'
           '  <recv request="BYE"/>\n' + OK_TO_LAST_REQUEST)

_BEHAVIOURS = {
    "answer": _response("180 Ringing") + "{answer}",
    "busy": _response("486 Busy Here") + '  <recv request="ACK"/>\n',
    "reject": _response("603 Decline") + '  <recv request="ACK"/>\n',
    "ring": (_response("180 Ringing") + '  <recv request="CANCEL"/>\n' + OK_TO_LAST_REQUEST
             + _response("487 Request Terminated") + '  <recv request="ACK"/>\n'),
}


@functools.cache
def unit_speech() -> Path:
    """A minute of speech in PCMA: what an answering phone says."""
    return speech_pcap(Path(tempfile.mkdtemp(prefix="speech-")) / "phone.pcap", repeats=8,
                       codec="PCMA")


def scenario(behaviour: str, ring_ms: int = 300, pcap: Path | None = None) -> str:
    answer = _ANSWER.format(ring_ms=ring_ms, pcap=pcap or unit_speech())
    body = _BEHAVIOURS[behaviour].replace("{answer}", answer)
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n'
            f'<scenario name="phone that does {behaviour}">\n'
            '  <recv request="OPTIONS" optional="true" next="options"/>\n'
            '  <recv request="INVITE"/>\n'
            f"{body}"
            '  <nop><action><exec int_cmd="stop_call"/></action></nop>\n'
            '  <label id="options"/>\n' + OK_TO_LAST_REQUEST + "</scenario>\n")


class Phone:
    """`async with Phone(port, "busy") as unit:` — a phone listening on 127.0.0.1:port."""

    def __init__(self, port: int, behaviour: str = "answer", *, ring_ms: int = 300,
                 timeout: float = 120, pcap: Path | None = None) -> None:
        self.port = port
        self.behaviour = behaviour
        self._ring_ms = ring_ms
        self._timeout = timeout
        self._pcap = pcap  # what it plays once it answered (SIPp's speech sample by default)
        self._tmp = tempfile.TemporaryDirectory(prefix=f"phone-{behaviour}-")
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def _trace_file(self) -> Path:
        return Path(self._tmp.name) / "messages.log"

    async def __aenter__(self) -> Phone:
        xml = Path(self._tmp.name) / "phone.xml"
        xml.write_text(scenario(self.behaviour, self._ring_ms, self._pcap))
        self._proc = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(xml), "-i", "127.0.0.1", "-p", str(self.port),
            "-cp", str(free_udp_port()), "-mi", "127.0.0.1", "-mp", str(free_udp_port() & ~1),
            "-timeout", f"{int(self._timeout)}s", "-nostdin",
            "-trace_msg", "-message_file", str(self._trace_file),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            cwd=self._tmp.name)
        await asyncio.sleep(0.3)  # bound before anyone calls it
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._proc.wait(), 10)
        self._tmp.cleanup()

    def trace(self) -> str:
        return self._trace_file.read_text(errors="replace") if self._trace_file.exists() else ""

    def invites(self) -> list[str]:
        """Each INVITE it received, whole (request line and headers)."""
        return [m.group(0) for m in re.finditer(r"INVITE sip:.*?(?=\r?\n\r?\n)", self.trace(),
                                                re.S)]


async def seat_phone(stack: Any, seat: str, *, behaviour: str = "answer",
                     pcap: Path | None = None) -> Phone:
    """Start a phone for a seat that exists (password "seat-<seat>-pass") that answers every
    call (and says `pcap`, once answered), and register it. The caller stops the phone."""
    phone = await Phone(free_udp_port(), behaviour, pcap=pcap).__aenter__()
    registered = await register(stack.sip_port, seat, f"seat-{seat}-pass", phone.port)
    assert registered.ok, registered.output[-1500:]
    return phone
