"""The city's rules as configuration: deadlines and thresholds, with presets from the seed
documents. Nothing here is a constant in code paths: the lifecycle reads a CityRules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tickets.codes import KEY_SOURCES


@dataclass(frozen=True)
class CityRules:
    name: str
    # Working days to finish, by kind; `default_days` for kinds not listed.
    days_by_kind: dict[str, int] = field(default_factory=dict)
    default_days: int = 10
    # Key-source items (provincial, 人民网, leader) and escalated approvals may get longer.
    key_source_days: int | None = None
    approval_days: int | None = None
    sign_within_days: int = 1
    first_contact_within_days: int = 1
    return_within_days: int = 1
    extension_max_total_days: int = 15
    extension_head_signature_over_days: int = 10
    repeat_window_days: int = 180
    repeat_citizen_threshold: int = 3
    crowd_threshold: int = 5
    unclear_responsibility_returns: int = 2

    def processing_days(self, kind: str, channel: str, approval_level: str | None) -> int:
        days = self.days_by_kind.get(kind, self.default_days)
        if approval_level and self.approval_days:
            days = max(days, self.approval_days)
        if channel in KEY_SOURCES and self.key_source_days:
            days = max(days, self.key_source_days)
        return days


PRESETS: dict[str, CityRules] = {
    # 蒙城: consultation 3, other 10 working days (art. 18); extensions to 15 (art. 19).
    "mengcheng": CityRules("mengcheng", {"consultation": 3}, default_days=10),
    # 兰溪: general 5, dispatched 10, leader-approved 15.
    "lanxi": CityRules("lanxi", {}, default_days=5, key_source_days=10, approval_days=15),
    # 漯河: at most 7 working days.
    "luohe": CityRules("luohe", {}, default_days=7, extension_max_total_days=7,
                       extension_head_signature_over_days=7),
    # 河东: result within 4 working days; contact and return within 1.
    "hedong": CityRules("hedong", {}, default_days=4, extension_max_total_days=8,
                        extension_head_signature_over_days=4),
}


def rules_for(city: str, overrides: dict[str, Any] | None = None) -> CityRules:
    try:
        rules = PRESETS[city]
    except KeyError:
        raise ValueError(f"unknown city preset {city!r}; one of {', '.join(PRESETS)}") from None
    return replace(rules, **overrides) if overrides else rules
