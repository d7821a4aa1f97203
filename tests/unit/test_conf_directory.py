"""units.toml and seats.toml on a corpus of broken files, one per mistake: each answers
the exact message at the exact line of the entry it is in. (Pure: only the file is read.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.conf import directory
from ivr.conf.directory import (
    DEFAULT_SEATS_FILE,
    DEFAULT_UNITS_FILE,
    SeatEntry,
    UnitEntry,
    read_seats,
    read_units,
)
from ivr.seats import service as seat_service

UNITS = """\
[[unit]]
code = "zjj"
name = "住建局"
phone = "0558-1234567"

[[unit]]
code = "sw"
name = "水务局"
phone = "13900000001"
duty_phone = "13900000002"
hours = "08:30-12:00,14:00-17:30"
"""

SEATS = """\
[[seat]]
number = "8001"
name = "张敏"

[[seat]]
number = "8002"
night = true
"""


def line_with(text: str, fragment: str, after: int = 0) -> int:
    """The first line after line `after` that holds fragment."""
    return next(n for n, line in enumerate(text.splitlines(), 1)
                if n > after and fragment in line)


def third_entry_line(text: str, header: str, fragment: str | None) -> int:
    """Where a mistake in the third entry is: the line of fragment in it, or (a key the
    entry lacks) that entry's own header, not the first one of the array."""
    third = [n for n, line in enumerate(text.splitlines(), 1) if line == header][2]
    return third if fragment is None else line_with(text, fragment, after=third)


def findings(tmp_path: Path, name: str, text: str) -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    _entries, found = (read_units if name == "units.toml" else read_seats)(path)
    return [str(f) for f in found]


def third_unit(body: str) -> str:
    return UNITS + "\n[[unit]]\n" + body


def third_seat(body: str) -> str:
    return SEATS + "\n[[seat]]\n" + body


def test_good_files_give_their_entries(tmp_path):
    (tmp_path / "units.toml").write_text(UNITS, encoding="utf-8")
    (tmp_path / "seats.toml").write_text(SEATS, encoding="utf-8")
    assert read_units(tmp_path / "units.toml") == ([
        UnitEntry("zjj", "住建局", "0558-1234567", None, None),
        UnitEntry("sw", "水务局", "13900000001", "13900000002", "08:30-12:00,14:00-17:30"),
    ], [])
    assert read_seats(tmp_path / "seats.toml") == ([
        SeatEntry("8001", "张敏", False), SeatEntry("8002", None, True)], [])


def test_a_missing_file_declares_nothing(tmp_path):
    assert read_units(tmp_path / "units.toml") == ([], [])
    assert read_seats(tmp_path / "seats.toml") == ([], [])


def test_the_default_files_declare_nothing():
    assert read_units(DEFAULT_UNITS_FILE) == ([], [])
    assert read_seats(DEFAULT_SEATS_FILE) == ([], [])


def test_the_default_files_examples_are_right(tmp_path):
    """Uncommented, the examples the admin is shown are good entries."""
    for default, name in ((DEFAULT_UNITS_FILE, "units.toml"), (DEFAULT_SEATS_FILE, "seats.toml")):
        text = default.read_text(encoding="utf-8")
        example = text[text.index("# [[")::].replace("# ", "")
        (tmp_path / name).write_text(example, encoding="utf-8")
    assert read_units(tmp_path / "units.toml") == ([UnitEntry(
        "zjj", "市住房和城乡建设局", "0558-1234567", "13900000000", "08:30-12:00,14:00-17:30")], [])
    assert read_seats(tmp_path / "seats.toml") == ([SeatEntry("8001", "张敏", False)], [])


def test_the_seat_rules_are_the_seat_services():
    # ivr.conf cannot import ivr.seats (sibling layers), so the rule is written twice.
    assert directory.SEAT_NUMBER.pattern == seat_service.SEAT_NUMBER.pattern


# (the third entry's body, the fragment of the line the finding is at, the message)
UNIT_CASES = {
    "an unknown key": (
        'code = "gt"\nname = "国土局"\nphone = "110"\nphone_number = "120"\n', "phone_number",
        "单位 'gt'：未知设置 phone_number — 可用的设置只有 code、name、phone、duty_phone、hours"),
    "no code": (
        'name = "国土局"\nphone = "110"\n', None,
        "第 3 个单位 缺少 code（单位编码） — 请加 code = \"…\"（字母、数字、- 或 _）"),
    "no name": (
        'code = "gt"\nphone = "110"\n', None,
        "单位 'gt' 缺少 name（单位名称） — 请加 name = \"…\""),
    "no day number, only a duty number": (
        'code = "gt"\nname = "国土局"\nduty_phone = "110"\n', None,
        "单位 'gt' 缺少 phone（白天电话） — 请加 phone = \"…\"；只有值班电话的单位，phone "
        "也填值班电话"),
    "no number at all": (
        'code = "gt"\nname = "国土局"\n', None,
        "单位 'gt' 没有任何电话号码 — 请加 phone = \"…\"（白天电话），可再加 duty_phone"
        "（7×24 值班电话）"),
    "a number that is no phone number": (
        'code = "gt"\nname = "国土局"\nphone = "0558-123x"\n', "0558-123x",
        "单位 'gt'：phone '0558-123x' 不是电话号码 — 只能写数字和 -，例如 0558-1234567"),
    "a duty number that is no phone number": (
        'code = "gt"\nname = "国土局"\nphone = "110"\nduty_phone = "值班室"\n', "值班室",
        "单位 'gt'：duty_phone '值班室' 不是电话号码 — 只能写数字和 -，例如 0558-1234567"),
    "a number written without quotes": (
        'code = "gt"\nname = "国土局"\nphone = 13900000000\n', "phone =",
        "单位 'gt'：phone 应写成带引号的文字 — 请改为 phone = \"13900000000\""),
    "bad hours": (
        'code = "gt"\nname = "国土局"\nphone = "110"\nhours = "8:30-12"\n', "hours",
        "单位 'gt'：hours '8:30-12' 无法识别 — 请写成 HH:MM-HH:MM，多段用逗号分开，"
        "例如 08:30-12:00,14:00-17:30"),
    "hours that end before they start": (
        'code = "gt"\nname = "国土局"\nphone = "110"\nhours = "17:00-09:00"\n', "hours",
        "单位 'gt'：hours '17:00-09:00' 无法识别 — 请写成 HH:MM-HH:MM，多段用逗号分开，"
        "例如 08:30-12:00,14:00-17:30"),
    "a bad code": (
        'code = "gt j"\nname = "国土局"\nphone = "110"\n', "gt j",
        "单位编码 'gt j' 不合规 — 最多 32 个字母、数字、- 或 _"),
    "a code that is too long": (
        f'code = "{"g" * 33}"\nname = "国土局"\nphone = "110"\n', "ggg",
        f"单位编码 '{'g' * 33}' 不合规 — 最多 32 个字母、数字、- 或 _"),
    "a code written twice": (
        'code = "zjj"\nname = "国土局"\nphone = "110"\n', 'code = "zjj"',
        "单位编码 'zjj' 重复 — 每个单位只写一次，或改用其他编码"),
    "a name that is too long": (
        f'code = "gt"\nname = "{"局" * 129}"\nphone = "110"\n', "局局",
        "单位 'gt' 的名称超过 128 个字 — 请缩短"),
}


@pytest.mark.parametrize("case", UNIT_CASES)
def test_each_unit_mistake_is_named_at_its_line(tmp_path, case):
    body, fragment, message = UNIT_CASES[case]
    text = third_unit(body)
    at = third_entry_line(text, "[[unit]]", fragment)
    assert findings(tmp_path, "units.toml", text) == [
        f"{tmp_path / 'units.toml'}:{at}: {message}"]


SEAT_CASES = {
    "an unknown key": (
        'number = "8003"\nnite = true\n', "nite",
        "坐席 8003：未知设置 nite — 可用的设置只有 number、name、night"),
    "a password": (
        'number = "8003"\npassword = "secret-pass"\n', "password",
        "坐席 8003：配置文件不写密码 — 请删除 password，改用 hotline seats add 8003 "
        "--password … 设置"),
    "no number": (
        'name = "李华"\n', None,
        "第 3 个坐席 缺少 number（坐席号码） — 请加 number = \"8001\"（3 到 8 位数字）"),
    "a bad number": (
        'number = "80"\n', "80",
        "坐席号码 '80' 不合规 — 请写 3 到 8 位数字"),
    "a number written without quotes": (
        'number = 8003\n', "8003",
        "第 3 个坐席：number 应写成带引号的文字 — 请改为 number = \"8003\""),
    "a number written twice": (
        'number = "8001"\n', '"8001"',
        "坐席号码 '8001' 重复 — 每个坐席只写一次"),
    "a name that is too long": (
        f'number = "8003"\nname = "{"敏" * 65}"\n', "敏敏",
        "坐席 8003：名称超过 64 个字 — 请缩短"),
    "night that is not true or false": (
        'number = "8003"\nnight = "yes"\n', "night",
        "坐席 8003：night 只能是 true 或 false — 请改为 night = true（夜班）或 night = false"
        "（白班）"),
}


@pytest.mark.parametrize("case", SEAT_CASES)
def test_each_seat_mistake_is_named_at_its_line(tmp_path, case):
    body, fragment, message = SEAT_CASES[case]
    text = third_seat(body)
    at = third_entry_line(text, "[[seat]]", fragment)
    assert findings(tmp_path, "seats.toml", text) == [
        f"{tmp_path / 'seats.toml'}:{at}: {message}"]


@pytest.mark.parametrize("name", ["units.toml", "seats.toml"])
def test_a_syntax_error_is_named_at_its_line(tmp_path, name):
    text = (UNITS if name == "units.toml" else SEATS).replace('name = "', 'name = ', 1)
    [finding] = findings(tmp_path, name, text)
    assert finding.startswith(f"{tmp_path / name}:{line_with(text, 'name = ')}: TOML 语法错误：")
    assert finding.endswith("— 请修正该处语法")


@pytest.mark.parametrize(("name", "text", "fragment", "message"), [
    ("units.toml", 'city = "mengcheng"\n' + UNITS, "city",
     "未知的设置 'city' — units.toml 只能写 [[unit]] 条目"),
    ("seats.toml", SEATS + '\n[[seats]]\nnumber = "8003"\n', "[[seats]]",
     "未知的设置 'seats' — seats.toml 只能写 [[seat]] 条目"),
    ("units.toml", 'x = 1\n[unit]\ncode = "zjj"\n', "[unit]",
     "unit 应写成 [[unit]] — 每一项单独写一段 [[unit]]，下面写它的设置"),
])
def test_the_files_own_shape(tmp_path, name, text, fragment, message):
    found = findings(tmp_path, name, text)
    assert f"{tmp_path / name}:{line_with(text, fragment)}: {message}" in found
    assert len(found) == (2 if text.startswith("x = 1") else 1)


def test_an_entry_with_a_mistake_is_left_out_and_the_others_kept(tmp_path):
    path = tmp_path / "units.toml"
    path.write_text(third_unit('code = "gt"\nname = "国土局"\n'), encoding="utf-8")
    units, found = read_units(path)
    assert [u.code for u in units] == ["zjj", "sw"]
    assert len(found) == 1
