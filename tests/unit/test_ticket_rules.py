"""Working days, city presets, repeat escalation, supervision triggers and masking."""

from datetime import date

import pytest

from tickets.calendar import WorkCalendar
from tickets.escalation import OversightInput, approval_level, matter_key, oversight_flags
from tickets.masking import for_unit
from tickets.rules import rules_for

cal = WorkCalendar()


def test_national_day_holiday_and_its_make_up_workday():
    # 2026: Oct 1-7 off; Sep 27 (Sun) and Oct 10 (Sat) are make-up workdays.
    assert not cal.is_workday(date(2026, 10, 1))
    assert cal.is_workday(date(2026, 10, 10)), "a Saturday make-up workday counts"
    # Dispatched Wed Sep 30: 3 working days are Oct 8, 9, 10 (the make-up Saturday).
    assert cal.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert cal.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_ten_working_days_across_spring_festival():
    # 2026 Spring Festival: Feb 15-23 off, Feb 14 (Sat) and Feb 28 (Sat) make-up workdays.
    # From Thu Feb 12: 13, 14*, 24, 25, 26, 27, 28*, Mar 2, 3, 4 (* make-up Saturdays).
    assert cal.add_workdays(date(2026, 2, 12), 10) == date(2026, 3, 4)


def test_years_without_official_data_fall_back_to_weekdays_and_admin_lists(tmp_path):
    assert cal.is_workday(date(2027, 3, 3)) and not cal.is_workday(date(2027, 3, 6))
    listed = tmp_path / "calendar.toml"
    listed.write_text("holidays = [2027-01-01]\nworkdays = [2027-01-09]\n")
    custom = WorkCalendar.from_file(listed)
    assert not custom.is_workday(date(2027, 1, 1))
    assert custom.is_workday(date(2027, 1, 9))
    # A deadline that crosses into the year without data is still computed.
    assert custom.add_workdays(date(2026, 12, 30), 2) == date(2027, 1, 4)


def test_presets_follow_the_seed_documents():
    mengcheng = rules_for("mengcheng")
    assert mengcheng.processing_days("consultation", "phone", None) == 3
    assert mengcheng.processing_days("complaint", "phone", None) == 10
    lanxi = rules_for("lanxi")
    assert lanxi.processing_days("complaint", "phone", None) == 5
    assert lanxi.processing_days("complaint", "provincial_hotline", None) == 10
    assert lanxi.processing_days("complaint", "phone", "county_office_head") == 15
    assert rules_for("luohe").processing_days("help", "phone", None) == 7
    assert rules_for("hedong").processing_days("help", "phone", None) == 4
    assert rules_for("mengcheng", {"default_days": 8}).default_days == 8
    with pytest.raises(ValueError, match="unknown city"):
        rules_for("atlantis")


@pytest.mark.parametrize("times, channel, level", [
    (1, "phone", None),
    (2, "phone", "hotline_office_head"),
    (3, "phone", "county_office_head"),
    (4, "phone", "deputy_county_head"),
    (1, "peoples_daily", "county_office_head"),
    (1, "leader_instructed", "county_office_head"),
    (2, "provincial_hotline", "deputy_county_head"),
])
def test_approval_level_follows_times_and_source(times, channel, level):
    assert approval_level(times, channel) == level


def test_same_matter_ignores_spacing_and_punctuation():
    assert matter_key("complaint", "噪音", "幸福路 12号") == matter_key("complaint", "噪音",
                                                                     "幸福路12号，")
    assert matter_key("complaint", "噪音", "幸福路12号") != matter_key("complaint", "噪音",
                                                                    "和平路3号")


def base(**kw):
    values = dict(channel="phone", times_by_citizen=1, citizens_on_matter=1, co_units=0,
                  redo_count=0, return_count=0, media_exposure=False, deadline=None,
                  open=True)
    values.update(kw)
    return OversightInput(**values)


def test_supervision_triggers():
    rules = rules_for("mengcheng")
    today = date(2026, 11, 20)
    assert oversight_flags(base(), rules, today) == []
    assert oversight_flags(base(times_by_citizen=3), rules, today) == ["repeat_citizen"]
    assert oversight_flags(base(citizens_on_matter=5), rules, today) == ["crowd"]
    assert oversight_flags(base(citizens_on_matter=4), rules, today) == []
    assert oversight_flags(base(deadline=date(2026, 11, 19)), rules, today) == ["overdue"]
    assert oversight_flags(base(deadline=date(2026, 11, 19), open=False), rules, today) == []
    flags = oversight_flags(base(channel="peoples_daily", co_units=2, redo_count=1,
                                   return_count=2, media_exposure=True), rules, today)
    assert flags == ["key_source", "multi_unit", "poor_quality", "unclear_responsibility",
                     "media_exposure"]


def test_units_never_see_a_confidential_callers_identity():
    ticket = {"id": "1", "name": "张三", "phone": "13800000000", "address": "幸福路12号",
              "confidential": True, "content": "噪音", "call_ids": ["1.1"],
              "transcript": "我是张三"}
    masked = for_unit(ticket)
    assert "张三" not in str(masked) and "13800000000" not in str(masked)
    assert "幸福路" not in str(masked)
    assert masked["content"] == "噪音"
    open_ticket = dict(ticket, confidential=False)
    assert for_unit(open_ticket)["phone"] == "13800000000"
