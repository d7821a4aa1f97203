"""Where a sentence ends: a pause in the voice, heard by WebRTC's voice activity detector.

Vosk ends a sentence by its own rules, on what its decoder takes for silence: half a second
after an ending it is sure of, one or two seconds after one it is not (a telephone line, an
accent, a small model). Its final text then comes 1–2 s after the citizen stopped. The
detector here looks at the audio itself, 20 ms at a time, and says when `pause_seconds` of
no voice follow some voice; the stream's decoder then closes the sentence at once
(StreamDecoder.end_sentence). A line so noisy that the detector never hears a pause simply
leaves the ending to Vosk's rules.
"""

from __future__ import annotations

import webrtcvad

FRAME_SECONDS = 0.02  # one of the frame lengths the detector takes (10, 20 or 30 ms)
RATES = (8000, 16000, 32000, 48000)  # the rates it takes
# 0 (lets most noise through as voice) … 3 (strictest): telephone audio, some line noise.
AGGRESSIVENESS = 2
# Voice this long before a pause counts: a click or a breath is no sentence.
MIN_VOICE_SECONDS = 0.1


class PauseDetector:
    """Fed a stream's audio in pieces of any length; `hear` is True once per sentence, on
    the piece in which its closing pause reached `pause_seconds`."""

    def __init__(self, rate: int, pause_seconds: float) -> None:
        self._vad = webrtcvad.Vad(AGGRESSIVENESS) if rate in RATES else None
        self._frame_bytes = int(rate * FRAME_SECONDS) * 2
        self._rate = rate
        self._pause_frames = max(1, round(pause_seconds / FRAME_SECONDS))
        self._min_voice_frames = max(1, round(MIN_VOICE_SECONDS / FRAME_SECONDS))
        self._pending = bytearray()
        self._voiced = 0  # voiced frames in the sentence under way
        self._quiet = 0  # unvoiced frames since the last voiced one

    def hear(self, pcm: bytes) -> bool:
        if self._vad is None:
            return False  # a rate the detector cannot take: Vosk's own rules end sentences
        self._pending += pcm
        ended = False
        size = self._frame_bytes
        whole = len(self._pending) - len(self._pending) % size
        for at in range(0, whole, size):
            if self._vad.is_speech(bytes(self._pending[at:at + size]), self._rate):
                self._voiced += 1
                self._quiet = 0
            elif self._voiced:
                self._quiet += 1
                if self._quiet >= self._pause_frames:
                    ended = ended or self._voiced >= self._min_voice_frames
                    self._voiced = self._quiet = 0
        del self._pending[:whole]
        return ended
