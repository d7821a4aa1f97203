"""Is a known sound in a recording? Each as its energy envelope (RMS of 20 ms windows,
whatever the sample rate), and the best normalised cross-correlation of the sound's
envelope along the recording's: 1.0 is the same shape of loud and quiet, 0 none."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

FRAMES_PER_SECOND = 50


def envelope(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        data = w.readframes(w.getnframes())
    assert width == 2, f"{path}: {width * 8}-bit audio"
    samples = np.frombuffer(data, dtype=np.int16).reshape(-1, channels)[:, 0].astype(float)
    window = rate // FRAMES_PER_SECOND
    count = len(samples) // window
    frames = samples[:count * window].reshape(count, window)
    return np.sqrt((frames ** 2).mean(axis=1))


def best_match(sound: Path, recording: Path) -> tuple[float, float]:
    """(correlation, where in the recording it starts, in seconds)."""
    needle, haystack = envelope(sound), envelope(recording)
    if len(haystack) < len(needle):
        return 0.0, 0.0
    needle = (needle - needle.mean()) / (needle.std() or 1.0)
    best, at = -1.0, 0
    for lag in range(len(haystack) - len(needle) + 1):
        piece = haystack[lag:lag + len(needle)]
        spread = piece.std()
        if spread == 0:
            continue
        score = float(((piece - piece.mean()) / spread * needle).mean())
        if score > best:
            best, at = score, lag
    return best, at / FRAMES_PER_SECOND
