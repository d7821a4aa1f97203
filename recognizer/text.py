"""Recognised text as people read it. Chinese models put a space between every word
("我 要 投诉"); Chinese is written without them, while Latin words and numbers keep theirs."""

from __future__ import annotations

import re

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def tidy(text: str) -> str:
    """`我 要 投诉 12345 热线` → `我要投诉 12345 热线`; runs of spaces become one."""
    return _BETWEEN_CJK.sub("", " ".join(text.split()))
