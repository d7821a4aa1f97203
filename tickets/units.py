"""The units directory (承办单位): which of a unit's numbers to call now, and finding a unit
by name, code or the pinyin initials of its name. Pure: the caller gives the time and the
working-day calendar. Ticket dispatch and call transfers use the same unit codes.

A unit has a day number (`phone`) and may have a 7×24 duty number (`duty_phone`). Its
hours, when given, say when the day number is staffed: windows on China's working days,
e.g. "08:30-12:00,14:00-17:30". Outside them the duty number is called; a unit with hours
but no duty number cannot be reached then, and says so. A unit without hours is reached
on its day number at any time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin

from tickets.errors import InvalidField, StepRefused

_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class NoUsableNumber(StepRefused):
    """The unit cannot be phoned now (409, saying why)."""


def parse_hours(spec: str) -> list[tuple[time, time]]:
    """"08:30-12:00,14:00-17:30" → its windows; InvalidField naming what is wrong."""
    windows = []
    for part in (p.strip() for p in spec.split(",")):
        match = _WINDOW.match(part)
        if not match:
            raise InvalidField("hours", f"hours: {part!r} is not HH:MM-HH:MM "
                               "(e.g. 08:30-12:00,14:00-17:30)")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2, m2) > (24, 0):
            raise InvalidField("hours", f"hours: {part!r} is not a time of day")
        start, end = time(h1, m1), time(23, 59, 59) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise InvalidField("hours", f"hours: {part!r} ends before it starts")
        windows.append((start, end))
    return windows


def in_hours(spec: str | None, at: datetime, is_workday: Callable[[date], bool]) -> bool:
    """Is the day number staffed at `at` (local time)? Always, for a unit without hours."""
    if not spec:
        return True
    if not is_workday(at.date()):
        return False
    now = at.time()
    return any(start <= now < end for start, end in parse_hours(spec))


def number_now(unit: dict[str, Any], at: datetime,
               is_workday: Callable[[date], bool]) -> tuple[str, str]:
    """(number, "day" or "duty") to call the unit at `at`; NoUsableNumber if none is."""
    if in_hours(unit.get("hours"), at, is_workday) and unit.get("phone"):
        return unit["phone"], "day"
    if unit.get("duty_phone"):
        return unit["duty_phone"], "duty"
    if unit.get("hours"):
        raise NoUsableNumber(f"{unit['name']}（{unit['code']}）现在不在工作时间"
                             f"（{unit['hours']}），且没有登记值班电话：请改为网络转办")
    raise NoUsableNumber(f"{unit['name']}（{unit['code']}）没有登记电话号码")


@lru_cache(maxsize=4096)
def initials(name: str) -> str:
    """"市住房和城乡建设局" → "szfhcxjsj": what operators type to find a unit fast."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def matches(unit: dict[str, Any], q: str) -> bool:
    """Does the search text find this unit: part of its name, its code, or its initials."""
    q = q.strip().lower()
    if not q:
        return True
    return (q in unit["name"].lower() or unit["code"].lower().startswith(q)
            or q in initials(unit["name"]))
