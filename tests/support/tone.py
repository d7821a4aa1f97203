"""Audio for SIPp to play into calls (pcaps of RTP), and a detector for what a recording
holds: a pure tone tells one side of a call from the others (Goertzel), and a speech
stream of the citizen's own stands in for a talking caller."""

from __future__ import annotations

import math
import struct
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

PCAP_DIR = Path("/usr/share/sip-tester")
RTP_AT = 14 + 20 + 8  # Ethernet, IPv4 and UDP headers before the RTP header


def tone_pcap(path: Path, hz: int = 1000, repeats: int = 2) -> Path:
    """A pcap of RTP (PCMA) carrying a sine at `hz`, for SIPp's play_pcap_audio."""
    packets = _template()
    size = len(packets[0][1]) - RTP_AT - 12
    alaw = _sox(["-n"], ["-e", "a-law"], "synth", str(len(packets) * repeats * size / 8000 + 1),
                "sine", str(hz), "vol", "0.5")
    return _write(path, packets, repeats, 8, lambda n: alaw[n * size:(n + 1) * size])


def speech_pcap(path: Path, repeats: int = 4, codec: str = "PCMU") -> Path:
    """SIPp's speech sample as RTP in PCMU (what the citizens' phones offer) or PCMA (the
    units'), `repeats` times: someone who talks, with a stream of their own. (SIPp's
    -rtp_echo, sending Asterisk's own packets back, is no stand-in: Asterisk drops part
    of such a stream and MixMonitor pads the recording with minutes of silence.)"""
    packets = _template()
    if codec == "PCMA":
        return _write(path, packets, repeats, 8, lambda n: packets[n % len(packets)][1][
            RTP_AT + 12:])
    ulaw = [_sox(["-t", "al", "-r", "8000", "-c", "1", "-"], ["-e", "u-law"],
                 stdin=frame[RTP_AT + 12:]) for _, frame in packets]
    return _write(path, packets, repeats, 0, lambda n: ulaw[n % len(packets)])


def wav_pcap(path: Path, wav: Path, codec: str = "PCMU") -> Path:
    """A WAV file (e.g. espeak speech) as RTP in PCMU or PCMA, then silence to the end of
    the template's last round: a caller or seat saying something known."""
    packets = _template()
    size = len(packets[0][1]) - RTP_AT - 12
    encoded = _sox([str(wav)], ["-e", "u-law" if codec == "PCMU" else "a-law"])
    silence = bytes([0xFF if codec == "PCMU" else 0xD5]) * size
    repeats = -(-len(encoded) // size // len(packets)) or 1

    def payload(n: int) -> bytes:
        piece = encoded[n * size:(n + 1) * size]
        return piece + silence[len(piece):]

    return _write(path, packets, repeats, 0 if codec == "PCMU" else 8, payload)


def _template() -> list[tuple[int, bytes]]:
    """(microseconds, frame) of each packet of SIPp's g711a.pcap (30 ms of PCMA each).
    Built on that file because SIPp and Asterisk take its headers and timing as they are."""
    data = (PCAP_DIR / "g711a.pcap").read_bytes()
    packets, offset = [], 24
    while offset < len(data):
        seconds, micros, size, _ = struct.unpack("<IIII", data[offset:offset + 16])
        packets.append((seconds * 1_000_000 + micros, data[offset + 16:offset + 16 + size]))
        offset += 16 + size
    return packets


def _sox(source: list[str], target: list[str], *effects: str, stdin: bytes | None = None
         ) -> bytes:
    return subprocess.run(["sox", *source, "-r", "8000", "-c", "1", *target, "-t", "raw",
                           "-", *effects], input=stdin, check=True,
                          capture_output=True).stdout


def _write(path: Path, packets: list[tuple[int, bytes]], repeats: int, payload_type: int,
           payload_of: Callable[[int], bytes]) -> Path:
    """The template's packets `repeats` times in a row (sequence numbers, RTP and capture
    times carried on), each with payload_of(n) and the payload type given."""
    size = len(packets[0][1]) - RTP_AT - 12
    span = packets[-1][0] - packets[0][0] + 30_000
    out = [(PCAP_DIR / "g711a.pcap").read_bytes()[:24]]
    for n in range(len(packets) * repeats):
        loop, (at, frame) = n // len(packets), packets[n % len(packets)]
        rtp = bytearray(frame[RTP_AT:])
        rtp[1] = (rtp[1] & 0x80) | payload_type
        sequence, stamp = struct.unpack("!HI", rtp[2:8])
        struct.pack_into("!HI", rtp, 2, (sequence + loop * len(packets)) & 0xFFFF,
                         stamp + loop * len(packets) * size)
        rtp[12:] = payload_of(n)
        data = frame[:RTP_AT] + bytes(rtp)
        micros = at + loop * span
        out.append(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(data),
                               len(data)) + data)
    path.write_bytes(b"".join(out))
    return path


def tone_seconds(wav_path: Path, hz: int = 1000) -> list[bool]:
    """For each second of a 16-bit mono WAV: does the tone carry most of its energy?"""
    with wave.open(str(wav_path)) as wav:
        rate = wav.getframerate()
        samples = struct.unpack(f"<{wav.getnframes()}h", wav.readframes(wav.getnframes()))
    coefficient = 2 * math.cos(2 * math.pi * hz / rate)
    found = []
    for start in range(0, len(samples) - rate + 1, rate):
        chunk = samples[start:start + rate]
        s1 = s2 = 0.0
        for x in chunk:
            s1, s2 = x + coefficient * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coefficient * s1 * s2  # |X(hz)|^2
        energy = sum(x * x for x in chunk) or 1
        found.append(power / (energy * len(chunk) / 2) > 0.3)
    return found
