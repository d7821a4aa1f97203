"""`hotline conf check` on a corpus of broken menus, one per mistake: each answers the
exact message, with its file and line. (Pure: the world the names must match is given.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.conf.check import Finding, check_menu
from ivr.conf.lines import line_index, line_of
from ivr.menu.checks import KnownWorld
from ivr.menu.config import DEFAULT_MENU_FILE
from ivr.menu.prompts import load_catalog

DEFAULT = DEFAULT_MENU_FILE.read_text(encoding="utf-8")
AFTER_KEY_9 = '"9" = { repeat = true }\n'


def world(**changes) -> KnownWorld:
    known = {"prompt_ids": set(load_catalog()) | {"recorded_only"}, "queues": {"hotline"},
             "units": {"ZJJ": True, "EMPTY": False},
             "missing_words": lambda phrases: [w for p in phrases for w in p.split()
                                               if w == "救命"]}
    return KnownWorld(**{**known, **changes})


def with_key(line: str) -> str:
    """The default menu with one more main-menu key, written after key 9."""
    return DEFAULT.replace(AFTER_KEY_9, AFTER_KEY_9 + line + "\n")


def checked(tmp_path: Path, text: str, known: KnownWorld | None = None) -> list[str]:
    path = tmp_path / "menu.toml"
    path.write_text(text, encoding="utf-8")
    _tree, findings = check_menu(path, known or world())
    return [str(f) for f in findings]


def line_with(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_default_menu_is_clean(tmp_path):
    assert checked(tmp_path, DEFAULT) == []


KEY_CASES = {
    "a key to a node that does not exist": (
        '"7" = { menu = "nowhere" }',
        "key 7 leads to node 'nowhere', which does not exist — add [nodes.nowhere] or lead "
        "it to one of 'main', 'emergency'"),
    "a key with no destination": (
        '"7" = { say = ["to_operator"] }',
        "key 7 leads nowhere — give it one of menu, back, repeat, queue, unit, emergency, "
        "lookup, message"),
    "two destinations on one key": (
        '"7" = { queue = "hotline", menu = "emergency" }',
        "key 7 has two destinations (menu and queue) — keep one"),
    "a prompt with no text and no recording": (
        '"7" = { queue = "hotline", say = ["no_such_prompt"] }',
        "prompt 'no_such_prompt' has no text and no recording — add no_such_prompt = \"…\" "
        "under [prompts], or a recording prompts/no_such_prompt.wav"),
    "a queue that does not exist": (
        '"7" = { queue = "nightshift" }',
        "key 7: queue 'nightshift' does not exist — use one of hotline"),
    "a unit that does not exist": (
        '"7" = { unit = "NOPE" }',
        "key 7: unit 'NOPE' does not exist — add it (hotline units add) or name an existing "
        "unit's code"),
    "a unit with no number": (
        '"7" = { unit = "EMPTY" }',
        "key 7: unit 'EMPTY' has no number to call — give it a phone"),
    "a phrase the speech model does not know": (
        '"7" = { queue = "hotline", phrases = ["救命"] }',
        "key 7: the speech model does not know 救命 — write the phrase in words it knows "
        "(spaced)"),
    "a phrase on two keys": (
        '"7" = { queue = "hotline", phrases = ["投诉"] }',
        "key 7: the phrase '投诉' is also key 2's — keep it on one"),
    "a key the phone does not have": (
        '"A" = { queue = "hotline" }',
        "'A' is not a key of the phone — use one of 0-9, * or #"),
    "an emergency number that is none": (
        '"7" = { emergency = "911" }',
        "key 7: '911' is no emergency number — use one of 110, 119, 120, 122"),
    "back where the menu starts": (
        '"7" = { back = true }',
        "key 7 goes back, but 'main' is where the menu starts — use repeat = true, or take "
        "the key away"),
    "a setting no key has": (
        '"7" = { queue = "hotline", sya = ["to_operator"] }',
        "key 7: unknown setting sya — the settings are a destination, kind, say, phrases"),
}


@pytest.mark.parametrize("case", KEY_CASES)
def test_each_mistake_is_named_at_its_line(tmp_path, case):
    line, message = KEY_CASES[case]
    text = with_key(line)
    assert checked(tmp_path, text) == [
        f"{tmp_path / 'menu.toml'}:{line_with(text, line)}: {message}"]


def test_a_node_no_key_reaches(tmp_path):
    text = DEFAULT + '\n[nodes.orphan]\nprompts = ["main_menu"]\n[nodes.orphan.keys]\n' \
                     '"0" = { queue = "hotline" }\n'
    assert checked(tmp_path, text) == [
        f"{tmp_path / 'menu.toml'}:{line_with(text, '[nodes.orphan]')}: node 'orphan' is not "
        "reached by any key — lead a key to it (menu = \"orphan\") or remove it"]


def test_a_loop_with_no_way_out_to_a_person(tmp_path):
    text = with_key('"7" = { menu = "loop_a" }').replace("[prompts]\n", "") + (
        '\n[nodes.loop_a]\nprompts = ["main_menu"]\n[nodes.loop_a.keys]\n'
        '"1" = { menu = "loop_b" }\n'
        '\n[nodes.loop_b]\nprompts = ["main_menu"]\n[nodes.loop_b.keys]\n'
        '"1" = { menu = "loop_a" }\n"9" = { repeat = true }\n')
    path = tmp_path / "menu.toml"
    assert checked(tmp_path, text) == [
        f"{path}:{line_with(text, f'[nodes.{name}]')}: node {name!r} loops with no way out "
        "to a person — give one of its keys queue = \"hotline\" (or a unit, an emergency "
        "number, a message)" for name in ("loop_a", "loop_b")]


def test_a_submenu_whose_back_key_leads_on_is_fine(tmp_path):
    text = with_key('"7" = { menu = "more" }').replace("[prompts]\n", "") + (
        '\n[nodes.more]\nprompts = ["more_menu"]\n[nodes.more.keys]\n"*" = { back = true }\n'
        '\n[prompts]\nmore_menu = "返回请按星号键。"\n')
    assert checked(tmp_path, text) == []


def test_a_recording_alone_is_a_prompt(tmp_path):
    assert checked(tmp_path, with_key('"7" = { queue = "hotline", say = ["recorded_only"] }')) \
        == []


def test_a_syntax_error_is_named_at_its_line(tmp_path):
    line = '"7" = { queue = "hotline" '
    text = with_key(line)
    [finding] = checked(tmp_path, text)
    assert finding.startswith(f"{tmp_path / 'menu.toml'}:{line_with(text, line)}: "
                              "not valid TOML: ")
    assert finding.endswith("— fix the syntax there")


def test_a_number_out_of_range_and_a_missing_start(tmp_path):
    text = DEFAULT.replace('max_failures = 3', 'max_failures = 0').replace(
        'start = "main"', 'start = "begin"')
    path = tmp_path / "menu.toml"
    assert checked(tmp_path, text) == [
        f"{path}:{line_with(text, 'start =')}: start = 'begin' is no node — name one of "
        "'main', 'emergency'",
        f"{path}:{line_with(text, 'max_failures = 0')}: max_failures = 0 — a whole number "
        "from 1 to 600"]


def test_an_unreadable_file_is_one_finding(tmp_path):
    _tree, findings = check_menu(tmp_path / "missing.toml", world())
    assert [f.line for f in findings] == [1] and "cannot read the file" in findings[0].message
    assert isinstance(findings[0], Finding)


def test_line_lookup_falls_back_to_the_table():
    index = line_index('a = 1\n[nodes.main]\nprompts = ["x"]\n[nodes.main.keys]\n"1" = {}\n')
    assert line_of(index, ("nodes", "main", "keys", "1")) == 5
    assert line_of(index, ("nodes", "main", "max_failures")) == 2
    assert line_of(index, ("nowhere",)) == 1
