"""One audio stream's decoding: 16-bit signed-linear mono PCM in, partial text (which
grows and changes) and final sentences with word times out.

A recognizer is not safe across threads: a StreamDecoder belongs to one stream and is fed
by one caller at a time (recognizer/pool.py runs each feed in a worker and awaits it).
A grammar is fixed when the recognizer is made: Vosk 0.3.45 can abort the process when
`SetGrammar` changes a running one, so a new grammar means a new StreamDecoder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import soxr
import vosk

from recognizer.model import SpeechModel
from recognizer.text import tidy


@dataclass(frozen=True)
class Word:
    word: str
    start: float  # seconds from the start of the stream
    end: float
    confidence: float


@dataclass(frozen=True)
class Partial:
    """The words heard so far in the sentence under way; the next one replaces it."""

    text: str


@dataclass(frozen=True)
class Final:
    """A finished sentence: its text and when it was said (seconds from the stream's start)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]


Heard = Partial | Final


class StreamDecoder:
    def __init__(self, model: SpeechModel, rate: int, grammar: list[str] | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"bad sample rate {rate}")
        self.rate = rate
        decode_rate = model.features.decode_rate(rate)
        # The model would refuse this rate: resample with a real (band-limited) resampler.
        self._resample = (soxr.ResampleStream(rate, decode_rate, 1, dtype="int16")
                          if decode_rate != rate else None)
        if grammar:
            # "[unk]" takes whatever is not a phrase, where the model has it (the packaged
            # Korean model does not): an unknown utterance then decodes to "[unk]".
            words = [*grammar, *(["[unk]"] if model.knows("[unk]") else [])]
            self._recognizer = vosk.KaldiRecognizer(
                model.model, decode_rate, json.dumps(words, ensure_ascii=False))
        else:
            self._recognizer = vosk.KaldiRecognizer(model.model, decode_rate)
        self._recognizer.SetWords(True)
        self._recognizer.SetPartialWords(True)
        self._partial = ""
        self.seconds = 0.0  # audio fed so far

    def feed(self, pcm: bytes) -> list[Heard]:
        """Decode a piece of audio (blocking: run it in a worker). What was heard because
        of it: a new partial text, or a finished sentence."""
        if len(pcm) % 2:
            pcm = pcm[:-1]  # half a sample: a torn frame, not worth failing a call over
        self.seconds += len(pcm) / 2 / self.rate
        data = self._resampled(pcm, last=False)
        if self._recognizer.AcceptWaveform(data):
            return self._final(self._recognizer.Result())
        partial = tidy(json.loads(self._recognizer.PartialResult()).get("partial", ""))
        if partial and partial != self._partial:
            self._partial = partial
            return [Partial(partial)]
        return []

    def end_sentence(self) -> list[Final]:
        """A pause ended the sentence under way (recognizer/pauses.py): its final text
        now, not once Vosk's own rules are sure (blocking). The recognizer goes on with
        the next sentence, its word times still counted from the stream's start."""
        return self._final(self._recognizer.FinalResult())

    def finish(self) -> list[Final]:
        """The stream ended: the sentence under way, if any (blocking)."""
        tail = self._resampled(b"", last=True)
        if tail:
            self._recognizer.AcceptWaveform(tail)
        return self._final(self._recognizer.FinalResult())

    def _resampled(self, pcm: bytes, *, last: bool) -> bytes:
        if self._resample is None:
            return pcm
        samples = np.frombuffer(pcm, dtype=np.int16)
        return bytes(self._resample.resample_chunk(samples, last=last).tobytes())

    def _final(self, result_json: str) -> list[Final]:
        self._partial = ""
        result = json.loads(result_json)
        words = tuple(Word(w["word"], float(w["start"]), float(w["end"]), float(w["conf"]))
                      for w in result.get("result", []) if w.get("word") != "[unk]")
        text = tidy(" ".join(w.word for w in words)) if words else tidy(
            result.get("text", "").replace("[unk]", ""))
        if not text:
            return []  # silence, or only what the grammar does not know
        if words:
            return [Final(words[0].start, words[-1].end, text, words)]
        return [Final(self.seconds, self.seconds, text, ())]
