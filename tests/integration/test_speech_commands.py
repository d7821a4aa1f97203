"""`hotline transcribe` and `hotline mic-test` as an admin runs them: the real console
script, the real Korean model, real files; a call's recording gets its transcript, both
sides apart, on the call record."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.calls.call_log import CallLog
from store.db import Database
from tests.support.speech import GREETING, THANKS, korean_model_path, spoken_wav

CALL = "1764650000.17"


def hotline(home: Path, *args: str, model: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOTLINE_HOME": str(home), "HOTLINE_LOG_LEVEL": "WARNING"}
    env.pop("HOTLINE_DB_URL", None)
    env.pop("HOTLINE_VOSK_MODEL", None)
    if model:
        env["HOTLINE_VOSK_MODEL"] = str(korean_model_path())
    return subprocess.run([sys.executable, "-m", "ivr.cli", *args], env=env, text=True,
                          capture_output=True, timeout=180, check=False)


async def a_recorded_call(home: Path) -> Path:
    db = Database(f"sqlite+aiosqlite:///{home / 'hotline.db'}")
    await db.migrate()
    calls = CallLog(db, str(home / "recordings"))
    await calls.call_arrived(CALL, "13900000001")
    await db.close()
    return home / "recordings" / f"{CALL}.wav"


async def transcript_of(home: Path):
    db = Database(f"sqlite+aiosqlite:///{home / 'hotline.db'}")
    try:
        call = await CallLog(db).get(CALL)
        return call.transcript_segments, call.transcript
    finally:
        await db.close()


def test_a_batch_with_good_corrupt_and_empty_files_goes_on_and_says_which_failed(tmp_path):
    good = spoken_wav(tmp_path / "good.wav", GREETING)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")
    empty = tmp_path / "empty.wav"
    empty.touch()
    done = hotline(tmp_path / "home", "transcribe", str(good), str(corrupt), str(empty))
    assert done.returncode == 1, done.stderr
    assert f"== {good}\n[00:00] 市民：" in done.stdout  # a line of text for the good one
    errors = [line for line in done.stderr.splitlines() if line.startswith("hotline ")]
    assert len(errors) == 2, done.stderr
    assert errors[0].startswith(f"hotline transcribe: {corrupt}: not an audio file (")
    assert errors[1] == f"hotline transcribe: {empty}: empty file"


def test_a_calls_recording_gets_its_transcript_with_both_sides_on_the_call(tmp_path):
    home = tmp_path / "home"
    recording = asyncio.run(a_recorded_call(home))
    recording.parent.mkdir(parents=True, exist_ok=True)
    # MixMonitor's three files: the mix, what the citizen said, what the citizen heard.
    spoken_wav(recording, f"{GREETING}. {THANKS}")
    spoken_wav(recording.with_name(f"{CALL}-in.wav"), GREETING, pad=0.5)
    spoken_wav(recording.with_name(f"{CALL}-out.wav"), THANKS, pad=3.0)
    done = hotline(home, "transcribe", str(recording))
    assert done.returncode == 0, done.stderr
    assert f"written onto call {CALL}" in done.stdout
    segments, text = asyncio.run(transcript_of(home))
    sides = [s["side"] for s in segments]
    assert sides[0] == "caller" and "agent" in sides
    assert [s["start"] for s in segments] == sorted(s["start"] for s in segments)
    agent = next(s for s in segments if s["side"] == "agent")
    assert agent["start"] >= 2.5  # the operator spoke after three seconds of silence
    assert "市民：" in text and "话务员：" in text


def test_without_a_model_speech_commands_say_how_to_turn_it_on(tmp_path):
    done = hotline(tmp_path, "transcribe", str(tmp_path / "x.wav"), model=False)
    assert done.returncode == 2
    assert "HOTLINE_VOSK_MODEL" in done.stderr


def test_mic_test_without_an_input_device_says_so(tmp_path):
    done = hotline(tmp_path, "mic-test", "--seconds", "1")
    assert done.returncode == 2
    assert "no microphone" in done.stderr or "no audio system" in done.stderr


@pytest.mark.parametrize("args", [["transcribe"], ["mic-test", "--seconds", "soon"]])
def test_bad_arguments_are_refused(tmp_path, args):
    assert hotline(tmp_path, *args).returncode == 2
