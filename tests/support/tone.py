"""A pure tone, to tell one side of a call from the others in a recording: a pcap of RTP
(PCMA) that a SIPp phone plays into its call, and a Goertzel detector for the WAV."""

from __future__ import annotations

import math
import struct
import subprocess
import wave
from pathlib import Path

PCAP_DIR = Path("/usr/share/sip-tester")
RTP_AT = 14 + 20 + 8  # Ethernet, IPv4 and UDP headers before the RTP header


def tone_pcap(path: Path, hz: int = 1000, repeats: int = 2) -> Path:
    """Write a pcap of RTP (PCMA) carrying a sine at `hz`, for SIPp's play_pcap_audio: SIPp's
    own speech sample (g711a.pcap, 7 s of 30 ms packets) with its payload replaced by the
    tone, played `repeats` times in a row. Built on that file because SIPp and Asterisk
    take its headers and timing as they are (a pcap written from scratch made Asterisk pad
    the recording with minutes of silence)."""
    template = (PCAP_DIR / "g711a.pcap").read_bytes()
    header, packets = template[:24], []
    offset = 24
    while offset < len(template):
        seconds, micros, size, _ = struct.unpack("<IIII", template[offset:offset + 16])
        packets.append((seconds * 1_000_000 + micros, template[offset + 16:offset + 16 + size]))
        offset += 16 + size
    payload = len(packets[0][1]) - RTP_AT - 12
    alaw = subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw",
                           "-", "synth", str(len(packets) * repeats * payload / 8000 + 1),
                           "sine", str(hz), "vol", "0.5"],
                          check=True, capture_output=True).stdout
    span = packets[-1][0] - packets[0][0] + 30_000
    out = [header]
    for n in range(len(packets) * repeats):
        loop, (at, frame) = divmod(n, len(packets))[0], packets[n % len(packets)]
        rtp = bytearray(frame[RTP_AT:])
        sequence, stamp = struct.unpack("!HI", rtp[2:8])
        struct.pack_into("!HI", rtp, 2, (sequence + loop * len(packets)) & 0xFFFF,
                         stamp + loop * len(packets) * payload)
        rtp[12:] = alaw[n * payload:(n + 1) * payload]
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
