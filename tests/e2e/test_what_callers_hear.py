"""What a caller hears, heard by a real softphone (pjsua2, null sound device): the welcome
prompt is found in its recording of the call, by the shape of its loud and quiet parts —
a silent or wrong prompt fails here, where every other test would pass."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.support.audio_match import best_match

ROOT = Path(__file__).resolve().parents[2]


async def a_softphone_call(stack, out: Path, seconds: float, keys: str = "") -> None:
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tests.support.softphone",
                         str(stack.sip_port), "12345", str(out), str(seconds),
                         *([keys] if keys else [])],
        cwd=ROOT, capture_output=True, text=True, timeout=seconds + 30, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


async def test_a_caller_hears_the_welcome_then_the_menu(stack, tmp_path):
    heard = tmp_path / "heard.wav"
    await a_softphone_call(stack, heard, seconds=16)
    sounds = stack.home / "sounds"
    welcome, welcome_at = best_match(sounds / "welcome.wav", heard)
    assert welcome >= 0.7, (welcome, welcome_at)
    assert welcome_at <= 2.0  # at once, not after a silence
    # a prompt that is not played at the start of a call does not match as well
    other, _ = best_match(sounds / "ticket_not_found.wav", heard)
    assert welcome - other >= 0.2, (welcome, other)
