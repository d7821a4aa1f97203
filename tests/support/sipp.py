"""Real SIP calls for the tests: builds SIPp scenarios from a list of steps and runs SIPp.

A step is one of:
  Pause(ms)             keep the call up (media flows from Asterisk)
  DtmfInfo(key)         a key as SIP INFO (application/dtmf-relay)
  DtmfRtp(key)          a key as an RFC 4733 telephone-event, from SIPp's own pcaps
  PlayPcap(path)        start playing a pcap of RTP into the call (tests/support/tone.py)
  Hangup()              the caller sends BYE
  ExpectBye()           Asterisk hangs up; the caller answers 200
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

PCAP_DIR = Path("/usr/share/sip-tester")
_control_ports = itertools.count(0)


@dataclass(frozen=True)
class Pause:
    ms: int


@dataclass(frozen=True)
class DtmfInfo:
    key: str


@dataclass(frozen=True)
class DtmfRtp:
    key: str


@dataclass(frozen=True)
class PlayPcap:
    path: Path


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class ExpectBye:
    pass


Step = Pause | DtmfInfo | DtmfRtp | PlayPcap | Hangup | ExpectBye

_HEADERS = """Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "citizen" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{service}@[remote_ip]:[remote_port]>{to_tag}
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70"""

_PCAP_NAMES = {"*": "star", "#": "pound"}

OK_TO_LAST_REQUEST = """  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""


def _request(method: str, caller: str, service: str, cseq: int, body: str = "",
             content_type: str = "") -> str:
    headers = _HEADERS.format(caller=caller, service=service, cseq=cseq, method=method,
                              to_tag="" if method == "INVITE" else "[peer_tag_param]")
    uri = f"sip:{service}@[remote_ip]:[remote_port]"
    typed = f"\n      Content-Type: {content_type}" if content_type else ""
    return f"""  <send retrans="500">
    <![CDATA[
      {method} {uri} SIP/2.0
      {headers}{typed}
      Content-Length: [len]

{body}
    ]]>
  </send>
"""


def scenario(caller: str, steps: list[Step], service: str = "12345") -> str:
    sdp = """      v=0
      o=citizen 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv"""
    cseq = itertools.count(1)
    parts = ['<?xml version="1.0" encoding="UTF-8" ?>\n<scenario name="hotline caller">\n',
             _request("INVITE", caller, service, next(cseq), sdp, "application/sdp"),
             '  <recv response="100" optional="true"/>\n'
             '  <recv response="180" optional="true"/>\n'
             '  <recv response="183" optional="true"/>\n'
             '  <recv response="200" rtd="true"/>\n',
             f"""  <send>
    <![CDATA[
      ACK sip:{service}@[remote_ip]:[remote_port] SIP/2.0
      {_HEADERS.format(caller=caller, service=service, cseq=1, method="ACK",
                       to_tag="[peer_tag_param]")}
      Content-Length: 0
    ]]>
  </send>
"""]
    for step in steps:
        if isinstance(step, Pause):
            parts.append(f'  <pause milliseconds="{step.ms}"/>\n')
        elif isinstance(step, DtmfInfo):
            body = f"      Signal={step.key}\n      Duration=160"
            parts.append(_request("INFO", caller, service, next(cseq), body,
                                  "application/dtmf-relay"))
            parts.append('  <recv response="200"/>\n')
        elif isinstance(step, DtmfRtp):
            pcap = PCAP_DIR / f"dtmf_2833_{_PCAP_NAMES.get(step.key, step.key)}.pcap"
            parts.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'
                         '  <pause milliseconds="400"/>\n')
        elif isinstance(step, PlayPcap):  # starts it; the next steps run while it plays
            parts.append(f'  <nop><action><exec play_pcap_audio="{step.path}"/></action></nop>\n')
        elif isinstance(step, Hangup):
            parts.append(_request("BYE", caller, service, next(cseq)))
            parts.append('  <recv response="200" crlf="true"/>\n')
        elif isinstance(step, ExpectBye):
            parts.append('  <recv request="BYE"/>\n' + OK_TO_LAST_REQUEST)
    parts.append("</scenario>\n")
    return "".join(parts)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SippResult:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


async def call(target_port: int, caller: str, steps: list[Step], *, service: str = "12345",
               timeout: float = 90.0, rtp: bool = True) -> SippResult:
    """Place one call from 127.0.0.1 to the hotline and play the steps; bounded in time."""
    with tempfile.TemporaryDirectory(prefix="sipp-") as tmp:
        xml = Path(tmp) / "caller.xml"
        xml.write_text(scenario(caller, steps, service))
        argv = ["sipp", f"127.0.0.1:{target_port}", "-sf", str(xml), "-m", "1", "-l", "1",
                "-i", "127.0.0.1", "-p", str(free_udp_port()), "-cp", str(free_udp_port()),
                "-mi", "127.0.0.1", "-mp", str(free_udp_port() & ~1),
                "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin",
                "-trace_err", "-error_file", str(Path(tmp) / "errors.log")]
        if rtp:
            argv += ["-rtp_echo"]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout + 10)
        except TimeoutError:
            return SippResult(-1, "sipp did not finish in time")
        finally:
            if proc.returncode is None:  # timed out or cancelled: never leave SIPp behind
                proc.kill()
                await proc.wait()
        errors = Path(tmp) / "errors.log"
        text = out.decode(errors="replace")
        if errors.exists():
            text += "\n" + errors.read_text(errors="replace")
        return SippResult(proc.returncode or 0, text)


_PHONE = """<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="a phone (carrier trunk or seat) answering one call">
  <!-- Asterisk's keep-alive OPTIONS (qualify) arrive as calls of their own: answer them. -->
  <recv request="OPTIONS" optional="true" next="options"/>
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
""" + OK_TO_LAST_REQUEST + """
  <!-- the one real call is over: stop, however many OPTIONS came first -->
  <nop><action><exec int_cmd="stop_now"/></action></nop>
  <label id="options"/>
""" + OK_TO_LAST_REQUEST + "</scenario>\n"


async def answer_one_call(port: int, timeout: float = 60.0) -> str:
    """Be a phone (the carrier trunk, a seat) for one call: answer it, wait for its BYE;
    returns the SIP trace."""
    with tempfile.TemporaryDirectory(prefix="sipp-uas-") as tmp:
        xml = Path(tmp) / "uas.xml"
        xml.write_text(_PHONE)
        trace = Path(tmp) / "messages.log"
        proc = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(xml), "-i", "127.0.0.1", "-p", str(port),
            "-cp", str(free_udp_port()), "-mi", "127.0.0.1", "-mp", str(free_udp_port() & ~1),
            "-timeout", f"{int(timeout)}s", "-nostdin", "-rtp_echo",
            "-trace_msg", "-message_file", str(trace),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, cwd=tmp)
        try:
            await asyncio.wait_for(proc.wait(), timeout + 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        return trace.read_text(errors="replace") if trace.exists() else ""


def _register_request(cseq: int, auth: str) -> str:
    return f"""  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{{seat}}@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:{{seat}}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:{{seat}}@127.0.0.1:{{contact_port}}>{auth}
      Expires: 600
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""


_REGISTER = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<scenario name="a seat phone registers with digest auth">\n'
    + _register_request(1, "")
    + '  <recv response="401" auth="true"/>\n'
    + _register_request(2, "\n      [authentication username={seat} password={password}]")
    + '  <recv response="200"/>\n</scenario>\n'
)


async def register(target_port: int, seat: str, password: str, contact_port: int) -> SippResult:
    """Register a seat whose phone (e.g. answer_one_call) listens on contact_port."""
    with tempfile.TemporaryDirectory(prefix="sipp-reg-") as tmp:
        xml = Path(tmp) / "register.xml"
        xml.write_text(_REGISTER.format(seat=seat, password=password, contact_port=contact_port))
        proc = await asyncio.create_subprocess_exec(
            "sipp", f"127.0.0.1:{target_port}", "-sf", str(xml), "-m", "1", "-i", "127.0.0.1",
            "-p", str(free_udp_port()), "-cp", str(free_udp_port()), "-timeout", "20s",
            "-timeout_error", "-nostdin", "-recv_timeout", "15000",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp)
        out, _ = await asyncio.wait_for(proc.communicate(), 40)
        return SippResult(proc.returncode or 0, out.decode(errors="replace"))
