"""Staffed hours: who answers at a given local time, and what a bad schedule is told."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.schedule.hours import InvalidSchedule, Schedule, load, parse, preset_for, save
from tickets.calendar import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar()
OFFICE = preset_for("lanxi")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_most_cities_answer_with_day_seats_at_every_hour():
    every_hour = preset_for("mengcheng")
    assert all(every_hour.staffed(CALENDAR, at(t)) for t in (
        "2026-11-23 03:00", "2026-10-01 12:00", "2026-11-21 23:59"))


@pytest.mark.parametrize(("when", "staffed"), [
    ("2026-11-23 08:29", False),  # Monday, before office hours
    ("2026-11-23 08:30", True),
    ("2026-11-23 12:00", False),  # lunch break
    ("2026-11-23 14:00", True),
    ("2026-11-23 17:29", True),
    ("2026-11-23 17:30", False),
    ("2026-11-21 10:00", False),  # Saturday
    ("2026-10-01 10:00", False),  # National Day, a Thursday
    ("2026-10-10 10:00", True),   # a Saturday made a workday (调休)
])
def test_office_hours_follow_chinas_working_days(when, staffed):
    assert OFFICE.staffed(CALENDAR, at(when)) is staffed


def test_a_closed_date_is_kept_as_a_rest_day_with_its_own_hours():
    schedule = parse({"always_staffed": False, "workday_hours": ["08:30-17:30"],
                      "restday_hours": ["09:00-12:00", "20:00-24:00"],
                      "closed_dates": ["2026-11-23"]})
    assert not schedule.staffed(CALENDAR, at("2026-11-23 14:00"))
    assert schedule.staffed(CALENDAR, at("2026-11-23 10:00"))
    assert schedule.staffed(CALENDAR, at("2026-11-22 23:59"))  # a Sunday, up to midnight
    assert schedule.staffed(CALENDAR, at("2026-11-24 14:00"))


def test_an_override_wins_until_cleared():
    assert parse({"always_staffed": True, "override": "night"}).staffed(
        CALENDAR, at("2026-11-23 10:00")) is False
    typhoon = parse({"always_staffed": False, "workday_hours": ["08:30-17:30"],
                     "override": "staffed"})
    assert typhoon.staffed(CALENDAR, at("2026-11-22 03:00")) is True


@pytest.mark.parametrize(("fields", "field"), [
    ({"workday_hours": ["8:30-12"]}, "workday_hours"),
    ({"workday_hours": ["12:00-08:30"]}, "workday_hours"),
    ({"workday_hours": "08:30-12:00"}, "workday_hours"),
    ({"restday_hours": [830]}, "restday_hours"),
    ({"closed_dates": ["next friday"]}, "closed_dates"),
    ({"override": "holiday"}, "override"),
    ({"always_staffed": "yes"}, "always_staffed"),
    ({"opening": "8:30"}, "opening"),
])
def test_a_bad_schedule_is_refused_naming_the_field(fields, field):
    with pytest.raises(InvalidSchedule) as refused:
        parse(fields)
    assert refused.value.field == field


def test_the_file_round_trips_and_is_optional(tmp_path):
    path = tmp_path / "schedule.toml"
    assert load(path, OFFICE) == OFFICE, "no file: the city's preset"
    edited = Schedule(always_staffed=False, workday_hours=OFFICE.workday_hours,
                      restday_hours=parse({"restday_hours": ["09:00-24:00"]}).restday_hours,
                      closed_dates=frozenset({date(2026, 12, 31)}), override="night")
    save(path, edited)
    assert load(path, OFFICE) == edited
    path.write_text("always_staffed = maybe\n")
    with pytest.raises(InvalidSchedule) as refused:
        load(path, OFFICE)
    assert refused.value.field == "file"
