"""Repeat callers, the approval level of escalated items (蒙城 art. 10) and supervision
triggers (督办, 蒙城 art. 21). Pure: the store supplies the counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tickets.codes import KEY_SOURCES
from tickets.rules import CityRules

_SPACE = re.compile(r"[\s,，.。;；:：、\-—()（）]+")


def matter_key(kind: str, category: str | None, location: str | None) -> str:
    """What makes two tickets 'the same matter': their subject and place, normalised."""
    subject = (category or kind).strip().lower()
    place = _SPACE.sub("", (location or "").lower())
    return f"{subject}|{place}"


def approval_level(times: int, channel: str) -> str | None:
    """Who approves in writing (书面批办), by how often the citizen raised it and its source.

    2nd time → hotline office head; 3rd time, or a first-time key item → county government
    office head; more than 3 times, or a 2nd-time key item → the deputy county head.
    """
    key = channel in KEY_SOURCES
    if times > 3 or (key and times >= 2):
        return "deputy_county_head"
    if times == 3 or key:
        return "county_office_head"
    if times == 2:
        return "hotline_office_head"
    return None


@dataclass(frozen=True)
class OversightInput:
    channel: str
    times_by_citizen: int
    citizens_on_matter: int
    co_units: int
    redo_count: int
    return_count: int
    media_exposure: bool
    deadline: date | None
    open: bool


def oversight_flags(facts: OversightInput, rules: CityRules, today: date) -> list[str]:
    flags = []
    if facts.channel in KEY_SOURCES:
        flags.append("key_source")
    if facts.open and facts.deadline is not None and today > facts.deadline:
        flags.append("overdue")
    if facts.times_by_citizen >= rules.repeat_citizen_threshold:
        flags.append("repeat_citizen")
    if facts.citizens_on_matter >= rules.crowd_threshold:
        flags.append("crowd")
    if facts.co_units > 0:
        flags.append("multi_unit")
    if facts.redo_count > 0:
        flags.append("poor_quality")
    if facts.return_count >= rules.unclear_responsibility_returns:
        flags.append("unclear_responsibility")
    if facts.media_exposure:
        flags.append("media_exposure")
    return flags
