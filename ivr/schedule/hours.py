"""Staffed hours (受理时间): when the day seats take calls and when the night seats do.

A 12345 line answers at every hour (蒙城 art. 12, "7×24"). A city that staffs only office
hours (兰溪: "受理来电时间与市机关正常作息时间同步") still answers at night: the night seats
take the calls, and when none is signed in the caller leaves a message. This module is pure:
it reads and writes the schedule file and says, for a local time, whether it is staffed.

The file (TOML, `$HOTLINE_HOME/schedule.toml` unless HOTLINE_SCHEDULE_FILE says otherwise):

    always_staffed = false                              # true: 7×24 with the day seats
    workday_hours = ["08:30-12:00", "14:00-17:30"]      # on China's working days (调休 too)
    restday_hours = []                                  # weekends and public holidays
    closed_dates = [2026-12-31]                         # local days off, kept as rest days
    override = ""                                       # "staffed" | "night": until cleared
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ivr.errors import HotlineError
from store.files import write_atomically
from tickets.calendar import WorkCalendar

# A supervisor's override until cleared: e.g. all hands during a typhoon, or night mode early.
OVERRIDES = {"staffed": "日间席位接听", "night": "夜间席位接听，无人时留言"}
Hours = tuple[tuple[time, time], ...]


class InvalidSchedule(HotlineError):
    http_status = 422

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class Schedule:
    always_staffed: bool = True
    workday_hours: Hours = ()
    restday_hours: Hours = ()
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    override: str | None = None

    def staffed(self, calendar: WorkCalendar, local: datetime) -> bool:
        """Whether the day seats answer at this local time."""
        if self.override:
            return self.override == "staffed"
        if self.always_staffed:
            return True
        day = local.date()
        workday = calendar.is_workday(day) and day not in self.closed_dates
        now = local.time()
        return any(start <= now < end
                   for start, end in (self.workday_hours if workday else self.restday_hours))

    def as_dict(self) -> dict[str, Any]:
        return {"always_staffed": self.always_staffed,
                "workday_hours": [_span_text(s) for s in self.workday_hours],
                "restday_hours": [_span_text(s) for s in self.restday_hours],
                "closed_dates": sorted(d.isoformat() for d in self.closed_dates),
                "override": self.override or ""}


# Cities whose rules say so staff office hours only; the rest answer 7×24 with day seats.
PRESETS = {
    "lanxi": Schedule(always_staffed=False,
                      workday_hours=((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))),
}


def preset_for(city: str) -> Schedule:
    return PRESETS.get(city, Schedule())


def parse(data: dict[str, Any]) -> Schedule:
    """A schedule from the file's (or the API's) fields; InvalidSchedule names the field."""
    known = {"always_staffed", "workday_hours", "restday_hours", "closed_dates", "override"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidSchedule(unknown[0], f"unknown field {unknown[0]!r}")
    always = data.get("always_staffed", True)
    if not isinstance(always, bool):
        raise InvalidSchedule("always_staffed", "always_staffed must be true or false")
    override = data.get("override") or None
    # isinstance first: a list or object is unhashable, and `in` would raise.
    if override is not None and (not isinstance(override, str) or override not in OVERRIDES):
        raise InvalidSchedule("override", f"override must be empty or one of "
                                          f"{', '.join(OVERRIDES)}")
    return Schedule(always_staffed=always,
                    workday_hours=_hours(data, "workday_hours"),
                    restday_hours=_hours(data, "restday_hours"),
                    closed_dates=_dates(data, "closed_dates"), override=override)


def _hours(data: dict[str, Any], name: str) -> Hours:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidSchedule(name, f'{name} must be a list like ["08:30-12:00"]')
    spans = []
    for text in value:
        try:
            start_text, end_text = text.split("-")
            start, end = time.fromisoformat(start_text.strip()), _end(end_text.strip())
        except ValueError:
            raise InvalidSchedule(name, f"{name}: {text!r} is not HH:MM-HH:MM") from None
        if start >= end:
            raise InvalidSchedule(name, f"{name}: {text!r} ends before it starts")
        spans.append((start, end))
    return tuple(sorted(spans))


def _end(text: str) -> time:
    # "24:00" closes a span at midnight; time() itself has no 24:00.
    return time.max if text == "24:00" else time.fromisoformat(text)


def _dates(data: dict[str, Any], name: str) -> frozenset[date]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise InvalidSchedule(name, f"{name} must be a list of dates")
    days = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(str(item)))
        except ValueError:
            raise InvalidSchedule(name, f"{name}: {item!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(days)


def _span_text(span: tuple[time, time]) -> str:
    end = "24:00" if span[1] == time.max else span[1].strftime("%H:%M")
    return f"{span[0].strftime('%H:%M')}-{end}"


def load(path: Path, default: Schedule) -> Schedule:
    """The schedule in the file, or the default when there is no file."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return default
    except tomllib.TOMLDecodeError as exc:
        raise InvalidSchedule("file", f"{path}: {exc}") from None
    return parse(data)


def to_toml(schedule: Schedule) -> str:
    d = schedule.as_dict()

    def strings(items: list[str]) -> str:
        return "[" + ", ".join(f'"{i}"' for i in items) + "]"

    return ("# Staffed hours of the 12345 line; edited by the admin page or by hand (applied\n"
            "# within seconds, no restart). Outside them the night seats answer, or, with\n"
            "# none signed in, the caller leaves a message.\n"
            f"always_staffed = {'true' if d['always_staffed'] else 'false'}\n"
            f"workday_hours = {strings(d['workday_hours'])}\n"
            f"restday_hours = {strings(d['restday_hours'])}\n"
            f"closed_dates = [{', '.join(d['closed_dates'])}]\n"
            f'override = "{d["override"]}"\n')


def save(path: Path, schedule: Schedule) -> None:
    write_atomically(path, to_toml(schedule))
