"""The responsible units (承办单位) and operator seats (坐席) the admin declares:

    $HOTLINE_HOME/conf/units.toml   [[unit]] code, name, phone, duty_phone, hours
    $HOTLINE_HOME/conf/seats.toml   [[seat]] number, name, night

`hotline conf apply` syncs them into the database: a declared unit or seat is added, or
updated where it differs, and one that already matches is not written. A unit or seat in
the database but not in the file is left alone: tickets, calls and accounts refer to it,
and `hotline units add` / `hotline seats add` remain a second way to add one. A seat's
password is never in a file (no secret in configuration): a seat the file adds gets a
random one, and the summary asks the admin to set theirs with `hotline seats add`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ivr.conf.check import Finding
from ivr.conf.lines import Where, array_entry_lines, line_index, line_of, syntax_error_at
from tickets.errors import InvalidField
from tickets.units import parse_hours

if TYPE_CHECKING:
    from tickets.service import TicketService

DEFAULT_UNITS_FILE = Path(__file__).with_name("units.toml")
DEFAULT_SEATS_FILE = Path(__file__).with_name("seats.toml")

# The rules of TicketService.add_unit and SeatService.add, so a file is refused at check
# time rather than halfway through an apply. ivr.seats is a sibling layer of ivr.conf and
# cannot be imported here; tests/unit/test_conf_directory.py holds the two in step.
SEAT_NUMBER = re.compile(r"^[0-9]{3,8}$")
SEAT_NAME_MAX = 64
UNIT_NAME_MAX = 128  # the units.name column
NUMBER_MAX = 32  # the units.phone and duty_phone columns
UNIT_KEYS = ("code", "name", "phone", "duty_phone", "hours")
SEAT_KEYS = ("number", "name", "night")


@dataclass(frozen=True)
class UnitEntry:
    code: str
    name: str
    phone: str
    duty_phone: str | None
    hours: str | None


@dataclass(frozen=True)
class SeatEntry:
    number: str
    name: str | None
    night: bool


class SeatDirectory(Protocol):
    """What the sync needs of ivr.seats.service.SeatService (given by the caller, since
    ivr.conf may not import ivr.seats)."""

    async def list(self) -> list[dict[str, Any]]: ...

    async def declare(self, number: str, name: str | None, night: bool) -> bool: ...


Say = Callable[[str, str], None]  # (key of the entry, message): at its line, else the header


def _entries(path: Path, array: str,
             findings: list[Finding]) -> list[tuple[dict[str, Any], Say]]:
    """The file's [[array]] tables, each with how to report a mistake at its lines; the
    file's own mistakes go to findings. A missing file declares nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        findings.append(Finding(path, 1, f"无法读取该文件（{exc}） — 请检查文件，或删除它"))
        return []
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = syntax_error_at(exc)
        findings.append(Finding(path, line or 1, f"TOML 语法错误：{message} — 请修正该处语法"))
        return []
    top = line_index(text)
    for key in document:
        if key != array:
            findings.append(Finding(path, line_of(top, (key,)), f"未知的设置 {key!r} — "
                                    f"{path.name} 只能写 [[{array}]] 条目"))
    tables, lines = document.get(array, []), array_entry_lines(text, array)
    if not isinstance(tables, list) or len(tables) != len(lines):
        # `[unit]`, `unit = …` or an inline array: no [[unit]] lines to report entries at
        findings.append(Finding(path, line_of(top, (array,)), f"{array} 应写成 [[{array}]] "
                                f"— 每一项单独写一段 [[{array}]]，下面写它的设置"))
        return []

    def reporter(index: dict[Where, int]) -> Say:
        return lambda key, message: findings.append(
            Finding(path, line_of(index, (array, key)), message))

    return [(table, reporter(index)) for table, index in zip(tables, lines, strict=True)]


def _texts(table: dict[str, Any], keys: tuple[str, ...], label: str,
           say: Say) -> tuple[dict[str, str | None], set[str]]:
    """Each text key's value, stripped (None: absent or empty), and the keys written with
    something other than text (said, and not to be called missing as well)."""
    values: dict[str, str | None] = {}
    wrong: set[str] = set()
    for key in keys:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            say(key, f"{label}：{key} 应写成带引号的文字 — 请改为 {key} = \"{value}\"")
            wrong.add(key)
            value = None
        values[key] = (value or "").strip() or None
    return values, wrong


def _unknown(table: dict[str, Any], known: tuple[str, ...], label: str, say: Say) -> None:
    for key in table:
        if key not in known:
            say(key, f"{label}：未知设置 {key} — 可用的设置只有 {'、'.join(known)}")


def read_units(path: Path) -> tuple[list[UnitEntry], list[Finding]]:
    """The units the file declares and its findings, in line order (blocking: reads the
    file). Only entries without a mistake are returned; apply refuses any finding."""
    findings: list[Finding] = []
    units: list[UnitEntry] = []
    seen: set[str] = set()
    for count, (table, say) in enumerate(_entries(path, "unit", findings), start=1):
        before = len(findings)
        raw = table.get("code")
        label = f"单位 {raw!r}" if isinstance(raw, str) and raw.strip() else f"第 {count} 个单位"
        _unknown(table, UNIT_KEYS, label, say)
        v, wrong = _texts(table, UNIT_KEYS, label, say)
        code, name, phone, duty, hours = (v[k] for k in UNIT_KEYS)
        if code is None and "code" not in wrong:
            say("code", f"{label} 缺少 code（单位编码） — 请加 code = \"…\"（字母、数字、- 或 _）")
        elif code is not None and (len(code) > 32 or not code.replace("-", "").replace(
                "_", "").isalnum()):
            say("code", f"单位编码 {code!r} 不合规 — 最多 32 个字母、数字、- 或 _")
        elif code in seen:
            say("code", f"单位编码 {code!r} 重复 — 每个单位只写一次，或改用其他编码")
        if name is None and "name" not in wrong:
            say("name", f"{label} 缺少 name（单位名称） — 请加 name = \"…\"")
        elif name is not None and len(name) > UNIT_NAME_MAX:
            say("name", f"{label} 的名称超过 {UNIT_NAME_MAX} 个字 — 请缩短")
        for key, value in (("phone", phone), ("duty_phone", duty)):
            if value is not None and (len(value) > NUMBER_MAX
                                      or not value.replace("-", "").isdigit()):
                say(key, f"{label}：{key} {value!r} 不是电话号码 — 只能写数字和 -，"
                         "例如 0558-1234567")
        if phone is None and duty is None and not {"phone", "duty_phone"} & wrong:
            say("phone", f"{label} 没有任何电话号码 — 请加 phone = \"…\"（白天电话），"
                      "可再加 duty_phone（7×24 值班电话）")
        elif phone is None and "phone" not in wrong:
            say("phone", f"{label} 缺少 phone（白天电话） — 请加 phone = \"…\"；只有值班电话的"
                      "单位，phone 也填值班电话")
        if hours is not None:
            try:
                parse_hours(hours)
            except InvalidField:
                say("hours", f"{label}：hours {hours!r} 无法识别 — 请写成 HH:MM-HH:MM，"
                             "多段用逗号分开，例如 08:30-12:00,14:00-17:30")
        if code is not None:
            seen.add(code)
        if len(findings) == before and code and name and phone:
            units.append(UnitEntry(code, name, phone, duty, hours))
    return units, sorted(findings, key=lambda f: f.line)


def read_seats(path: Path) -> tuple[list[SeatEntry], list[Finding]]:
    """The seats the file declares and its findings, in line order (blocking: reads the
    file). Only entries without a mistake are returned; apply refuses any finding."""
    findings: list[Finding] = []
    seats: list[SeatEntry] = []
    seen: set[str] = set()
    for count, (table, say) in enumerate(_entries(path, "seat", findings), start=1):
        before = len(findings)
        raw = table.get("number")
        label = f"坐席 {raw}" if isinstance(raw, str) and raw.strip() else f"第 {count} 个坐席"
        if "password" in table:  # what an admin may well try: say why it has no place here
            say("password", f"{label}：配置文件不写密码 — 请删除 password，改用 hotline seats "
                            f"add {raw if isinstance(raw, str) else '号码'} --password … 设置")
        _unknown({k: x for k, x in table.items() if k != "password"}, SEAT_KEYS, label, say)
        v, wrong = _texts(table, ("number", "name"), label, say)
        number, name = v["number"], v["name"]
        if number is None and "number" not in wrong:
            say("number", f"{label} 缺少 number（坐席号码） — 请加 number = \"8001\""
                          "（3 到 8 位数字）")
        elif number is not None and not SEAT_NUMBER.match(number):
            say("number", f"坐席号码 {number!r} 不合规 — 请写 3 到 8 位数字")
        elif number in seen:
            say("number", f"坐席号码 {number!r} 重复 — 每个坐席只写一次")
        if name is not None and len(name) > SEAT_NAME_MAX:
            say("name", f"{label}：名称超过 {SEAT_NAME_MAX} 个字 — 请缩短")
        night = table.get("night", False)
        if not isinstance(night, bool):
            say("night", f"{label}：night 只能是 true 或 false — 请改为 night = true（夜班）"
                         "或 night = false（白班）")
        if number is not None:
            seen.add(number)
        if len(findings) == before and number:
            seats.append(SeatEntry(number, name, night))
    return seats, sorted(findings, key=lambda f: f.line)


async def sync_directory(units: list[UnitEntry], seats: list[SeatEntry],
                         tickets: TicketService, seat_service: SeatDirectory) -> str:
    """Upsert the declared units and seats; the one-line summary for the admin. Each entry
    is compared with the database first, so re-applying an unchanged file writes nothing."""
    known = {u["code"]: u for u in await tickets.units()}
    units_added = units_updated = 0
    for unit in units:
        now = known.get(unit.code)
        if now is not None and (now["name"], now["phone"], now["duty_phone"], now["hours"]) \
                == (unit.name, unit.phone, unit.duty_phone, unit.hours):
            continue
        await tickets.add_unit(unit.code, unit.name, unit.phone, unit.duty_phone, unit.hours)
        if now is None:
            units_added += 1
        else:
            units_updated += 1
    present = {s["seat"]: s for s in await seat_service.list()}
    created: list[str] = []
    seats_updated = 0
    for seat in seats:
        now = present.get(seat.number)
        if now is not None and (now["name"], now["night"]) == (seat.name, seat.night):
            continue
        if await seat_service.declare(seat.number, seat.name, seat.night):
            created.append(seat.number)
        else:
            seats_updated += 1
    seat_part = _counts(len(created), seats_updated)
    if len(created) == 1:
        seat_part += f"（请用 hotline seats add {created[0]} --password … 设置密码）"
    elif created:
        seat_part += (f"（请为 {'、'.join(created)} 分别用 hotline seats add 号码 "
                      "--password … 设置密码）")
    return f"单位：{_counts(units_added, units_updated)}；坐席：{seat_part}"


def _counts(added: int, updated: int) -> str:
    return f"新增 {added}，更新 {updated}" if added or updated else "无变化"
