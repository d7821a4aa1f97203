"""A call's transcript: sentences from both sides of the call, in time order, and the text
an operator reads (and a ticket keeps). `caller` is the citizen; `agent` is whoever the
citizen hears: the operator, a unit after a transfer, everyone in a three-way call."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from recognizer.stream import Final

Side = Literal["caller", "agent"]
SIDE_NAMES: dict[str, str] = {"caller": "市民", "agent": "话务员"}


@dataclass(frozen=True)
class Segment:
    side: Side
    start: float  # seconds from the start of the call's audio
    end: float
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def segments_of(side: Side, finals: list[Final], offset: float = 0.0) -> list[Segment]:
    """One side's sentences as segments; `offset` is when that side's audio began."""
    return [Segment(side, round(f.start + offset, 2), round(f.end + offset, 2), f.text)
            for f in finals]


def in_order(*sides: list[Segment]) -> list[Segment]:
    return sorted((s for side in sides for s in side), key=lambda s: (s.start, s.side))


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def render(segments: list[Segment]) -> str:
    """`[00:03] 市民：我要投诉` one line per sentence."""
    return "\n".join(f"[{clock(s.start)}] {SIDE_NAMES[s.side]}：{s.text}" for s in segments)
