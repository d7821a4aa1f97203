"""Where a TOML path is written in its file: ("nodes", "main", "keys", "1") → the line of
`"1" = …` under `[nodes.main.keys]`. tomllib gives values, not positions; the files an
admin edits are tables of simple and quoted keys, which a line scan reads reliably."""

from __future__ import annotations

import re

Where = tuple[str, ...]

_HEADER = re.compile(r"^\s*\[\[?(?P<path>[^\]]+)\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*(?P<key>(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)"""
                  r"""(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")
_PART = re.compile(r""""((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+)""")


def _parts(dotted: str) -> Where:
    return tuple(next(g for g in m.groups() if g is not None) for m in _PART.finditer(dotted))


def line_index(text: str) -> dict[Where, int]:
    """Every table and key path → the (1-based) line that writes it first."""
    index: dict[Where, int] = {}
    table: Where = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _parts(header.group("path"))
            index.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            index.setdefault((*table, *_parts(key.group("key"))), number)
    return index


def line_of(index: dict[Where, int], where: Where) -> int:
    """The line of `where`, or of the nearest table or key that holds it (a key the file
    lacks is reported at its table); 1 when nothing of it is written."""
    for length in range(len(where), 0, -1):
        if where[:length] in index:
            return index[where[:length]]
    return 1
