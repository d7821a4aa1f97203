"""Which number a transfer calls, and how an operator finds a unit."""

from datetime import date, datetime

import pytest

from tickets.errors import InvalidField
from tickets.units import NoUsableNumber, initials, matches, number_now, parse_hours

WEEKDAYS = lambda day: day.weekday() < 5  # noqa: E731
NATIONAL_DAY = {date(2026, 10, 1)}
CN = lambda day: day.weekday() < 5 and day not in NATIONAL_DAY  # noqa: E731

HOUSING = {"code": "ZJJ", "name": "市住房和城乡建设局", "phone": "2001",
           "duty_phone": "2999", "hours": "08:30-12:00,14:00-17:30"}


@pytest.mark.parametrize(("at", "expected"), [
    (datetime(2026, 12, 2, 9, 0), ("2001", "day")),      # a Wednesday morning
    (datetime(2026, 12, 2, 12, 30), ("2999", "duty")),   # lunch
    (datetime(2026, 12, 2, 17, 30), ("2999", "duty")),   # the window ends at 17:30
    (datetime(2026, 12, 5, 10, 0), ("2999", "duty")),    # Saturday
    (datetime(2026, 10, 1, 10, 0), ("2999", "duty")),    # National Day, a Thursday
])
def test_the_day_number_in_hours_on_working_days_else_the_duty_number(at, expected):
    assert number_now(HOUSING, at, CN) == expected


def test_a_unit_without_hours_is_phoned_on_its_day_number_at_any_time():
    unit = {**HOUSING, "hours": None, "duty_phone": None}
    assert number_now(unit, datetime(2026, 12, 5, 3, 0), CN) == ("2001", "day")


def test_out_of_hours_without_a_duty_number_says_why_in_chinese():
    unit = {**HOUSING, "duty_phone": None}
    with pytest.raises(NoUsableNumber, match=r"不在工作时间.*值班电话"):
        number_now(unit, datetime(2026, 12, 5, 10, 0), WEEKDAYS)


@pytest.mark.parametrize("spec", ["8:30", "08:30-25:00", "12:00-08:00", "a-b", "09:00-17:00,"])
def test_bad_hours_name_the_field(spec):
    with pytest.raises(InvalidField) as error:
        parse_hours(spec)
    assert error.value.field == "hours"


def test_units_are_found_by_name_code_or_pinyin_initials():
    assert initials("市住房和城乡建设局") == "szfhcxjsj"
    for q in ("住房", "zjj", "ZJ", "zfhcx", "szf"):
        assert matches(HOUSING, q), q
    assert not matches(HOUSING, "公安")
    assert not matches(HOUSING, "gaj")
