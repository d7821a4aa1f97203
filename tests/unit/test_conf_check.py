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
        "按键 7 指向的节点 'nowhere' 不存在 — 请添加 [nodes.nowhere]，或改为指向 "
        "'main'、'emergency' 之一"),
    "a key with no destination": (
        '"7" = { say = ["to_operator"] }',
        "按键 7 没有去向 — 请给它以下之一：menu、back、repeat、queue、unit、emergency、"
        "lookup、message"),
    "two destinations on one key": (
        '"7" = { queue = "hotline", menu = "emergency" }',
        "按键 7 有两个去向（menu、queue） — 只保留一个"),
    "a prompt with no text and no recording": (
        '"7" = { queue = "hotline", say = ["no_such_prompt"] }',
        "提示音 'no_such_prompt' 既没有文字也没有录音 — 请在 [prompts] 下添加 "
        "no_such_prompt = \"…\"，或放入录音 prompts/no_such_prompt.wav"),
    "a queue that does not exist": (
        '"7" = { queue = "nightshift" }',
        "按键 7：队列 'nightshift' 不存在 — 请使用 hotline 之一"),
    "a unit that does not exist": (
        '"7" = { unit = "NOPE" }',
        "按键 7：单位 'NOPE' 不存在 — 请先添加该单位（hotline units add），或填写已有单位的编码"),
    "a unit with no number": (
        '"7" = { unit = "EMPTY" }',
        "按键 7：单位 'EMPTY' 没有可拨打的号码 — 请为它设置电话"),
    "a phrase the speech model does not know": (
        '"7" = { queue = "hotline", phrases = ["救命"] }',
        "按键 7：语音模型不认识 救命 — 请用模型认识的词书写该说法（词间用空格）"),
    "a phrase on two keys": (
        '"7" = { queue = "hotline", phrases = ["投诉"] }',
        "按键 7：说法 '投诉' 已用于按键 2 — 只保留在一个按键上"),
    "a key the phone does not have": (
        '"A" = { queue = "hotline" }',
        "'A' 不是电话上的按键 — 请使用 0-9、* 或 #"),
    "an emergency number that is none": (
        '"7" = { emergency = "911" }',
        "按键 7：'911' 不是紧急号码 — 请使用 110、119、120、122 之一"),
    "back where the menu starts": (
        '"7" = { back = true }',
        "按键 7 是返回上一级，但 'main' 是菜单的起点 — 请改为 repeat = true，或删除该按键"),
    "a setting no key has": (
        '"7" = { queue = "hotline", sya = ["to_operator"] }',
        "按键 7：未知设置 sya — 可用的设置只有去向、kind、say、phrases"),
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
        f"{tmp_path / 'menu.toml'}:{line_with(text, '[nodes.orphan]')}: 节点 'orphan' 没有任何"
        "按键能到达 — 请让某个按键指向它（menu = \"orphan\"），或删除它"]


def test_a_loop_with_no_way_out_to_a_person(tmp_path):
    text = with_key('"7" = { menu = "loop_a" }').replace("[prompts]\n", "") + (
        '\n[nodes.loop_a]\nprompts = ["main_menu"]\n[nodes.loop_a.keys]\n'
        '"1" = { menu = "loop_b" }\n'
        '\n[nodes.loop_b]\nprompts = ["main_menu"]\n[nodes.loop_b.keys]\n'
        '"1" = { menu = "loop_a" }\n"9" = { repeat = true }\n')
    path = tmp_path / "menu.toml"
    assert checked(tmp_path, text) == [
        f"{path}:{line_with(text, f'[nodes.{name}]')}: 节点 {name!r} 循环往复，没有通往人工的"
        "出口 — 请给它的某个按键设置 queue = \"hotline\"（或单位、紧急号码、留言）"
        for name in ("loop_a", "loop_b")]


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
                              "TOML 语法错误：")
    assert finding.endswith("— 请修正该处语法")


def test_a_number_out_of_range_and_a_missing_start(tmp_path):
    text = DEFAULT.replace('max_failures = 3', 'max_failures = 0').replace(
        'start = "main"', 'start = "begin"')
    path = tmp_path / "menu.toml"
    assert checked(tmp_path, text) == [
        f"{path}:{line_with(text, 'start =')}: start = 'begin' 不是任何节点 — 请改为其中之一："
        "'main'、'emergency'",
        f"{path}:{line_with(text, 'max_failures = 0')}: max_failures = 0 不合适 — 请填 1 到 "
        "600 之间的整数"]


def test_an_unreadable_file_is_one_finding(tmp_path):
    _tree, findings = check_menu(tmp_path / "missing.toml", world())
    assert [f.line for f in findings] == [1] and "无法读取该文件" in findings[0].message
    assert isinstance(findings[0], Finding)


def test_line_lookup_falls_back_to_the_table():
    index = line_index('a = 1\n[nodes.main]\nprompts = ["x"]\n[nodes.main.keys]\n"1" = {}\n')
    assert line_of(index, ("nodes", "main", "keys", "1")) == 5
    assert line_of(index, ("nodes", "main", "max_failures")) == 2
    assert line_of(index, ("nowhere",)) == 1
