"""Measures and reports: first-time resolution, response and satisfaction rates, per unit and
overall, for any period; weekly/monthly/quarterly reports with a unit ranking (周通报、月排名)
and the period's hot spots (热点): the most frequent categories (or kinds, by their Chinese
names), and the words citizens used most in the period's calls (tickets/hot_words.py).

Definitions (河东's three KPIs), each over the tickets whose step falls in the period:
- 一次办结率 first-time resolution: closed tickets never returned nor redone / closed tickets.
- 响应率 response: dispatched tickets signed and first contacted in time / dispatched tickets.
- 满意率 satisfaction: callbacks "satisfied" or "basically satisfied" / callbacks.
A unit's figures count the tickets it led. A rate with nothing to count is null, not 0.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from store.db import Database
from tickets.codes import KINDS
from tickets.hot_words import hot_words
from tickets.models import Ticket, Unit

SATISFIED = frozenset({"satisfied", "basically_satisfied"})
CLOSED = frozenset({"closed", "archived"})


@dataclass
class Tally:
    closed: int = 0
    closed_first_time: int = 0
    dispatched: int = 0
    responded: int = 0
    callbacks: int = 0
    satisfied: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def as_dict(self) -> dict[str, Any]:
        rates = {
            "first_time_resolution_rate": self._rate(self.closed_first_time, self.closed),
            "response_rate": self._rate(self.responded, self.dispatched),
            "satisfaction_rate": self._rate(self.satisfied, self.callbacks),
        }
        known = [r for r in rates.values() if r is not None]
        score = round(100 * sum(known) / len(known), 1) if known else None
        return {**self.__dict__, **rates, "score": score}


@dataclass
class Period:
    name: str
    start: date  # local dates, end exclusive
    end: date
    label: str = field(default="")


def period_of(kind: str, day: date) -> Period:
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
        iso = start.isocalendar()
        return Period(kind, start, end, f"{iso.year}年第{iso.week}周")
    if kind == "monthly":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return Period(kind, start, end, f"{start.year}年{start.month}月")
    if kind == "quarterly":
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = date(day.year, first_month, 1)
        end = date(day.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
        return Period(kind, start, end, f"{day.year}年第{(first_month - 1) // 3 + 1}季度")
    raise ValueError(f"period must be weekly, monthly or quarterly, not {kind!r}")


def _in(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment < until


async def measure(db: Database, since: datetime, until: datetime) -> dict[str, Any]:
    """Overall and per-unit tallies and rates for [since, until)."""
    async with db.session() as session:
        rows = (await session.execute(select(
            Ticket.lead_unit, Ticket.status, Ticket.closed_at, Ticket.redo_count,
            Ticket.return_count, Ticket.dispatched_at, Ticket.signed_late,
            Ticket.first_contact_late, Ticket.callback_at, Ticket.satisfaction,
            Ticket.category, Ticket.kind, Ticket.created_at,
        ).where(or_(
            Ticket.closed_at.between(since, until), Ticket.dispatched_at.between(since, until),
            Ticket.callback_at.between(since, until), Ticket.created_at.between(since, until),
        )))).all()
        names = dict((await session.execute(select(Unit.code, Unit.name))).all())
        transcripts = (await session.scalars(select(Ticket.transcript).where(
            Ticket.created_at.between(since, until), Ticket.transcript.is_not(None)))).all()
    words = await asyncio.to_thread(hot_words, transcripts)
    overall = Tally()
    by_unit: dict[str, Tally] = {}
    hot: Counter[str] = Counter()
    created = 0
    for r in rows:
        tallies = [overall] + ([by_unit.setdefault(r.lead_unit, Tally())] if r.lead_unit else [])
        if _in(r.created_at, since, until):
            created += 1
            hot[r.category or KINDS.get(r.kind, r.kind)] += 1
        for t in tallies:
            if r.status in CLOSED and _in(r.closed_at, since, until):
                t.closed += 1
                t.closed_first_time += (r.redo_count or 0) == 0 and (r.return_count or 0) == 0
            if _in(r.dispatched_at, since, until):
                t.dispatched += 1
                t.responded += r.signed_late is False and r.first_contact_late is False
            if _in(r.callback_at, since, until):
                t.callbacks += 1
                t.satisfied += r.satisfaction in SATISFIED
    units = [{"unit": code, "name": names.get(code, code), **tally.as_dict()}
             for code, tally in by_unit.items()]
    units.sort(key=lambda u: (-(u["score"] if u["score"] is not None else -1), u["unit"]))
    for rank, unit in enumerate(units, 1):
        unit["rank"] = rank
    return {"since": since.isoformat(), "until": until.isoformat(), "created": created,
            "overall": overall.as_dict(), "units": units,
            "hot_spots": [{"topic": k, "tickets": n} for k, n in hot.most_common(10)],
            "hot_words": [{"word": w, "times": n} for w, n in words]}


async def report(db: Database, kind: str, day: date, tz: ZoneInfo) -> dict[str, Any]:
    period = period_of(kind, day)
    since = datetime.combine(period.start, datetime.min.time(), tz)
    until = datetime.combine(period.end, datetime.min.time(), tz)
    data = await measure(db, since, until)
    return {"period": kind, "label": period.label, "start": period.start.isoformat(),
            "end": (period.end - timedelta(days=1)).isoformat(), **data}


RANKING_COLUMNS = ("rank", "unit", "name", "dispatched", "responded", "response_rate",
                   "closed", "closed_first_time", "first_time_resolution_rate", "callbacks",
                   "satisfied", "satisfaction_rate", "score")


def report_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RANKING_COLUMNS)
    for unit in data["units"]:
        writer.writerow(["" if unit[c] is None else unit[c] for c in RANKING_COLUMNS])
    overall = data["overall"]
    writer.writerow(["", "ALL", "全部", *("" if overall[c] is None else overall[c]
                                         for c in RANKING_COLUMNS[3:])])
    return out.getvalue()


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _bar(rate: float | None, colour: str) -> str:
    width = 0 if rate is None else round(rate * 160)
    return (f'<svg width="170" height="14" role="img" aria-label="{_pct(rate)}">'
            f'<rect width="160" height="12" fill="#eee"/>'
            f'<rect width="{width}" height="12" fill="{colour}"/></svg>')


def report_html(data: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{u['rank']}</td><td>{e(u['name'])}</td><td>{u['dispatched']}</td>"
        f"<td>{_bar(u['response_rate'], '#3b7dd8')} {_pct(u['response_rate'])}</td>"
        f"<td>{_bar(u['first_time_resolution_rate'], '#2e9e5b')} "
        f"{_pct(u['first_time_resolution_rate'])}</td>"
        f"<td>{_bar(u['satisfaction_rate'], '#d89b3b')} {_pct(u['satisfaction_rate'])}</td>"
        f"<td>{'—' if u['score'] is None else u['score']}</td></tr>"
        for u in data["units"])
    o = data["overall"]
    hot = "".join(f"<li>{e(h['topic'])}：{h['tickets']}件</li>" for h in data["hot_spots"])
    words = ("、".join(f"{e(w['word'])}（{w['times']}）" for w in data["hot_words"])
             or "（本期无通话转写）")
    title = f"12345热线{e(data['label'])}通报"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head>
<body><h1>{title}</h1>
<p>统计期间：{e(data['start'])} 至 {e(data['end'])}。新受理 {data['created']} 件。</p>
<h2>总体指标</h2>
<ul><li>响应率：{_pct(o['response_rate'])}（{o['responded']}/{o['dispatched']}）</li>
<li>一次办结率：{_pct(o['first_time_resolution_rate'])}（{o['closed_first_time']}/{o['closed']}）</li>
<li>满意率：{_pct(o['satisfaction_rate'])}（{o['satisfied']}/{o['callbacks']}）</li></ul>
<h2>承办单位排名</h2>
<table><thead><tr><th>名次</th><th>单位</th><th>转办件</th><th>响应率</th><th>一次办结率</th>
<th>满意率</th><th>综合得分</th></tr></thead><tbody>{rows}</tbody></table>
<h2>热点问题</h2><ol>{hot}</ol>
<h2>来电热词</h2><p>{words}</p>
</body></html>
"""
