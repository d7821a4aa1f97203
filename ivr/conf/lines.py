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


def array_entry_lines(text: str, name: str) -> list[dict[Where, int]]:
    """Each `[[name]]` entry of a top-level array of tables, in file order: its own index,
    (name,) → its header's line and (name, key…) → the line of each key written under it.
    line_index keeps only the first header of an array, which cannot tell the entries apart."""
    entries: list[dict[Where, int]] = []
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            inside = (line.lstrip().startswith("[[")
                      and _parts(header.group("path")) == (name,))
            if inside:
                entries.append({(name,): number})
            continue
        key = _KEY.match(line)
        if key and inside:
            entries[-1].setdefault((name, *_parts(key.group("key"))), number)
    return entries


def syntax_error_at(exc: ValueError) -> tuple[str, int | None]:
    """tomllib's error without its position, and the line it names: "Expected '=' after a
    key in a key/value pair (at line 12, column 5)" → ("Expected '=' …", 12)."""
    message, _, at = str(exc).partition(" (at line ")
    return message, int(at.split(",")[0]) if at[:1].isdigit() else None
