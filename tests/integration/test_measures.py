"""KPIs and the report on a known data set (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.tickets import ticket_service
from tickets.filing import parse_new_ticket
from tickets.lifecycle import Actor
from tickets.measures import measure, period_of, report, report_csv, report_html

OP = Actor("op1", "operator")
WATER = Actor("w", "unit", unit="water")
ROADS = Actor("r", "unit", unit="roads")
REPLY = {"content": "经现场核查，问题已于当日处理完毕，并已电话告知来电人处理结果。",
         "responder": "李工", "responder_phone": "05581234567", "approved_by": "王局长"}


class Clock:
    now = datetime(2026, 11, 16, 1, tzinfo=UTC)  # Mon 16 Nov, 09:00 Shanghai

    def __call__(self):
        return self.now


async def known_data_set(db):
    clock = Clock()
    svc = ticket_service(db, clock=clock)
    await svc.add_unit("water", "自来水公司", "05581234567")
    await svc.add_unit("roads", "住建局", "05587654321")

    async def new(category):
        return (await svc.create(parse_new_ticket(
            {"phone": "13800000000", "kind": "complaint", "content": "问题",
             "category": category}), OP))["id"]

    async def step(tid, action, actor, **params):
        return await svc.act(tid, action, params, actor)

    # T1 water: on time throughout, satisfied, closed first time.
    t1 = await new("停水")
    await step(t1, "dispatch", OP, unit="water")
    await step(t1, "sign", WATER)
    await step(t1, "contact", WATER, note="已联系")
    await step(t1, "reply", WATER, **REPLY)
    await step(t1, "callback", OP, satisfaction="satisfied")
    await step(t1, "close", OP)
    # T2 water: signed two days late, redone once, then basically satisfied.
    t2 = await new("停水")
    await step(t2, "dispatch", OP, unit="water")
    clock.now += timedelta(days=2)
    await step(t2, "sign", WATER)
    await step(t2, "contact", WATER, note="已联系")
    await step(t2, "reply", WATER, **REPLY)
    await step(t2, "callback", OP, satisfaction="unsatisfied")
    await step(t2, "redo", OP, reason="未解决")
    await step(t2, "reply", WATER, **REPLY)
    await step(t2, "callback", OP, satisfaction="basically_satisfied")
    await step(t2, "close", OP)
    # T3 roads: signed in time, first contact late, still open.
    t3 = await new("路灯")
    await step(t3, "dispatch", OP, unit="roads")
    await step(t3, "sign", ROADS)
    clock.now += timedelta(days=2)
    await step(t3, "contact", ROADS, note="已联系")
    # T4 roads: returned by water first, re-dispatched to roads, on time, satisfied.
    t4 = await new("路灯")
    await step(t4, "dispatch", OP, unit="water")
    await step(t4, "return", WATER, reason="非本单位职责", legal_basis="职责分工方案")
    await step(t4, "dispatch", OP, unit="roads")
    await step(t4, "sign", ROADS)
    await step(t4, "contact", ROADS, note="已联系")
    await step(t4, "reply", ROADS, **REPLY)
    await step(t4, "callback", OP, satisfaction="satisfied")
    await step(t4, "close", OP)
    return svc


async def test_rates_overall_and_per_unit(store_db):
    await known_data_set(store_db)
    data = await measure(store_db, datetime(2026, 11, 1, tzinfo=UTC),
                         datetime(2026, 12, 1, tzinfo=UTC))
    o = data["overall"]
    assert (o["closed"], o["closed_first_time"]) == (3, 1)
    assert o["first_time_resolution_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert (o["dispatched"], o["responded"], o["response_rate"]) == (4, 2, 0.5)
    assert (o["callbacks"], o["satisfied"], o["satisfaction_rate"]) == (3, 3, 1.0)
    water, roads = data["units"]
    assert (water["unit"], water["rank"]) == ("water", 1)
    assert water["first_time_resolution_rate"] == 0.5 and water["response_rate"] == 0.5
    assert water["score"] == pytest.approx(66.7)
    assert (roads["unit"], roads["rank"], roads["first_time_resolution_rate"]) == ("roads", 2, 0.0)
    assert roads["score"] == 50.0
    assert data["hot_spots"] == [{"topic": "停水", "tickets": 2}, {"topic": "路灯", "tickets": 2}]


async def test_an_empty_period_has_no_rates_rather_than_zero(store_db):
    await known_data_set(store_db)
    data = await measure(store_db, datetime(2026, 1, 1, tzinfo=UTC),
                         datetime(2026, 2, 1, tzinfo=UTC))
    assert data["overall"]["response_rate"] is None and data["units"] == []


async def test_weekly_report_as_csv_and_html(store_db):
    await known_data_set(store_db)
    data = await report(store_db, "weekly", date(2026, 11, 18), ZoneInfo("Asia/Shanghai"))
    assert (data["start"], data["end"]) == ("2026-11-16", "2026-11-22")
    text = report_csv(data)
    lines = text.strip().splitlines()
    assert lines[0].startswith("rank,unit,name") and lines[1].startswith("1,water,自来水公司")
    assert lines[-1].startswith(",ALL,全部")
    page = report_html(data)
    assert "承办单位排名" in page and "自来水公司" in page and "<svg" in page


def test_periods():
    assert period_of("monthly", date(2026, 12, 9)).end == date(2027, 1, 1)
    q = period_of("quarterly", date(2026, 11, 9))
    assert (q.start, q.end, q.label) == (date(2026, 10, 1), date(2027, 1, 1), "2026年第4季度")
    assert period_of("weekly", date(2026, 11, 22)).start == date(2026, 11, 16)
    with pytest.raises(ValueError):
        period_of("daily", date(2026, 11, 9))


async def test_hot_spots_name_kinds_in_chinese_and_count_the_words_of_the_calls(store_db):
    svc = ticket_service(store_db, clock=Clock())
    for said in ("[00:03] 市民：小区门口的垃圾没人清运\n[00:08] 话务员：垃圾在哪个门口",
                 "[00:02] 市民：垃圾分类的垃圾桶坏了"):
        await svc.create(parse_new_ticket({"phone": "13800000001", "kind": "complaint",
                                           "content": "垃圾问题", "transcript": said}), OP)
    data = await report(store_db, "weekly", date(2026, 11, 18), ZoneInfo("Asia/Shanghai"))
    # no category given: the kind, as operators and units read it (not "complaint")
    assert data["hot_spots"] == [{"topic": "投诉", "tickets": 2}]
    assert data["hot_words"][0] == {"word": "垃圾", "times": 2}  # the citizens' words only
    page = report_html(data)
    assert "来电热词" in page and "垃圾（2）" in page and "complaint" not in page
