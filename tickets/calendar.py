"""Working days with China's public holidays and make-up workdays (调休).

`chinese-calendar` carries the State Council's schedule for the years it knows. For a year
it does not know yet (it is published each November), the calendar falls back to Monday to
Friday plus the holidays and make-up days an admin lists in HOTLINE_CALENDAR_FILE, and says
so in the log once, rather than refusing to compute a legal deadline.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

log = logging.getLogger(__name__)


@dataclass
class WorkCalendar:
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    _warned_years: set[int] = field(default_factory=set)

    @classmethod
    def from_file(cls, path: Path | None) -> WorkCalendar:
        """TOML: `holidays = [2027-01-01, ...]` and `workdays = [2027-02-07, ...]`."""
        if path is None:
            return cls()
        with path.open("rb") as f:
            data = tomllib.load(f)
        return cls(frozenset(data.get("holidays", [])), frozenset(data.get("workdays", [])))

    _known: dict[date, bool] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        # Asked for every deadline of every ticket; the answer for a date never changes.
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._look_up(day)
        return known

    def _look_up(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned_years:
                self._warned_years.add(day.year)
                log.warning("no official holiday schedule for %s yet: counting Monday to "
                            "Friday plus HOTLINE_CALENDAR_FILE", day.year)
            return day.weekday() < 5

    def add_workdays(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself not counted)."""
        day = start
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count
