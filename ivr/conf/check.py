"""`hotline conf check`: every mistake in the admin's configuration, each as
`FILE:LINE: what is wrong — how to fix it`, before a caller meets it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.conf.lines import line_index, line_of
from ivr.menu.checks import KnownWorld, check_tree
from ivr.menu.config import read_tree
from ivr.menu.prompts import load_catalog, recorded_ids
from ivr.menu.tree import MenuTree


@dataclass(frozen=True)
class Finding:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def known_world(recorded_dir: Path, queues: Collection[str],
                units: Mapping[str, bool] | None = None,
                missing_words: Callable[[list[str]], list[str]] | None = None) -> KnownWorld:
    """What the menu's names must match on this hotline (blocking: reads the catalog and
    lists the recordings)."""
    return KnownWorld(prompt_ids={*load_catalog(), *recorded_ids(recorded_dir)},
                      queues=queues, units=units, missing_words=missing_words)


def check_menu(path: Path, world: KnownWorld) -> tuple[MenuTree | None, list[Finding]]:
    """The menu file's tree (None when it cannot run) and its findings, in line order
    (blocking: reads the file)."""
    tree, problems, syntax_line = read_tree(path)
    if tree is not None:
        problems = [*problems, *check_tree(tree, world)]
    try:
        index = line_index(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        index = {}
    findings = [Finding(path, syntax_line or line_of(index, p.where), p.message)
                for p in problems]
    return (tree if not findings else None), sorted(findings, key=lambda f: f.line)
