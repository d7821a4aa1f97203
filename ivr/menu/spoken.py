"""The main menu's spoken choices (ivr/menu/spoken_choices.toml): phrases per key, the
grammar the recognizer is restricted to while the citizen is in the menu, and the key a
recognised phrase stands for."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import ConfigurationError
from ivr.menu.flow import KEY_OPERATOR, KEY_PROGRESS, REQUEST_KINDS

PHRASES_FILE = Path(__file__).with_name("spoken_choices.toml")
SPEAKABLE_KEYS = frozenset({*REQUEST_KINDS, KEY_PROGRESS, KEY_OPERATOR})


@dataclass(frozen=True)
class SpokenChoices:
    by_key: dict[str, tuple[str, ...]]

    def grammar(self) -> list[str]:
        """Every phrase, once, in the file's order."""
        return list(dict.fromkeys(p for phrases in self.by_key.values() for p in phrases))

    def key_of(self, heard: str) -> str | None:
        """The key a recognised phrase stands for; None for anything else."""
        said = " ".join(heard.split())
        for key, phrases in self.by_key.items():
            if said in (" ".join(p.split()) for p in phrases):
                return key
        return None


def load_spoken_choices(path: Path = PHRASES_FILE) -> SpokenChoices:
    """ConfigurationError names the file and what is wrong with it."""
    try:
        with path.open("rb") as f:
            main = tomllib.load(f).get("main", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    by_key: dict[str, tuple[str, ...]] = {}
    for key, phrases in main.items():
        if key not in SPEAKABLE_KEYS:
            raise ConfigurationError(f"{path}: key {key!r} is not a main-menu choice that can "
                                     f"be spoken ({', '.join(sorted(SPEAKABLE_KEYS))})")
        if not isinstance(phrases, list) or not all(
                isinstance(p, str) and p.strip() for p in phrases):
            raise ConfigurationError(f"{path}: key {key!r} needs a list of phrases")
        by_key[key] = tuple(phrases)
    return SpokenChoices(by_key)
