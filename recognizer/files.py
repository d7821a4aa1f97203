"""Recorded audio files as PCM for the decoder, and their whole transcript.

WAV (what MixMonitor writes) is read directly; anything else goes through `sox`, which
also names what is wrong with a file it cannot read. Blocking: run in a worker.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np

from recognizer.model import SpeechModel
from recognizer.stream import Final, StreamDecoder

CHUNK_SECONDS = 0.2  # what a live stream hands the decoder at a time, more or less


class AudioFileError(Exception):
    """A file that holds no usable audio; the message says why in one line."""


def read_audio(path: Path) -> tuple[bytes, int]:
    """16-bit mono PCM and its sample rate."""
    if not path.is_file():
        raise AudioFileError("no such file")
    if path.stat().st_size == 0:
        raise AudioFileError("empty file")
    try:
        with wave.open(str(path)) as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, RuntimeError, struct.error):
        # not WAV, or a torn one (the wave module raises RuntimeError on a chunk that runs
        # past the file's end): sox either reads it or says what is wrong
        return _through_sox(path)
    if width != 2:
        return _through_sox(path)
    if channels > 1:  # mix down: both sides of a stereo recording are speech
        samples = np.frombuffer(frames, dtype=np.int16).reshape(-1, channels)
        frames = samples.mean(axis=1).astype(np.int16).tobytes()
    if not frames:
        raise AudioFileError("no audio in the file (0 samples)")
    return frames, rate


def _through_sox(path: Path) -> tuple[bytes, int]:
    sox = shutil.which("sox")
    if sox is None:
        raise AudioFileError("not a 16-bit WAV file, and sox is not installed to convert it")
    rate = 16000
    done = subprocess.run(
        [sox, "-V1", str(path), "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1",
         "-r", str(rate), "-"], capture_output=True, timeout=600, check=False)
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        # "sox FAIL formats: can't open input file `x': WAVE header not found": the end
        reason = lines[-1].rsplit(": ", 1)[-1] if lines else "sox could not read it"
        raise AudioFileError(f"not an audio file ({reason})")
    if not done.stdout:
        raise AudioFileError("no audio in the file (0 samples)")
    return done.stdout, rate


def transcribe_file(model: SpeechModel, path: Path) -> tuple[list[Final], float]:
    """The sentences of a recording, and its length in seconds."""
    pcm, rate = read_audio(path)
    decoder = StreamDecoder(model, rate)
    step = int(rate * CHUNK_SECONDS) * 2
    finals: list[Final] = []
    for at in range(0, len(pcm), step):
        finals += [h for h in decoder.feed(pcm[at:at + step]) if isinstance(h, Final)]
    finals += decoder.finish()
    return finals, len(pcm) / 2 / rate
