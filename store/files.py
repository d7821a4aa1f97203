"""Writing configuration files that another process (Asterisk, the service) may read."""

from __future__ import annotations

from pathlib import Path


def write_atomically(target: Path, text: str) -> None:
    """Write beside, then rename over: a reader sees the old file or the new, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
