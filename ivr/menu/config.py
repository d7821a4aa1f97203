"""The menu file: the repo's default (ivr/menu/menu.toml) or an admin's copy, read into a
MenuTree (ivr/menu/tree.py). Reading is file I/O: the service does it at start and when a
change is applied, never per call."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from ivr.errors import ConfigurationError
from ivr.menu.tree import MenuTree, Problem, parse_tree

DEFAULT_MENU_FILE = Path(__file__).with_name("menu.toml")


def read_tree(path: Path) -> tuple[MenuTree | None, list[Problem], int | None]:
    """(tree or None, its problems, the line of a TOML syntax error or None). A file that
    cannot be read at all is one problem at the top."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem((), f"无法读取该文件（{exc}） — 请从 {DEFAULT_MENU_FILE} "
                                  "恢复")], None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # "Expected '=' after a key in a key/value pair (at line 12, column 5)"
        message, _, at = str(exc).partition(" (at line ")
        line = int(at.split(",")[0]) if at[:1].isdigit() else None
        return None, [Problem((), f"TOML 语法错误：{message} — 请修正该处语法")], line
    tree, problems = parse_tree(document)
    return tree, problems, None


def load_tree(path: Path) -> MenuTree:
    """The tree of a file that must be good (the service's start): ConfigurationError
    with the first problem otherwise (`hotline conf check` lists them all)."""
    tree, problems, _line = read_tree(path)
    if tree is None or problems:
        first = problems[0].message if problems else "broken"
        raise ConfigurationError(f"{path}: {first} (run `hotline conf check`)")
    return tree


@functools.cache
def default_tree() -> MenuTree:
    return load_tree(DEFAULT_MENU_FILE)
