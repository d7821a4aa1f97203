"""After an AMI reconnect or a service restart, transfers are picked up again from what
Asterisk holds now, not from events that were lost: a leg still ringing or talking is
followed on, one that ended while nobody listened is closed and its rules applied (the
operator rung back, the operator back to the citizen), and a citizen or an operator left
alone in a room with no transfer under way is not left there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.telephony.ami_client import Message
from ivr.transfers.legs import Happened, Leg, UnitAnswered, UnitGone


@dataclass(frozen=True)
class Found:
    """A stored leg as Asterisk shows it now, and what must be applied to it."""

    leg: Leg
    happened: list[Happened]


def restored_leg(call_id: str, seat: str, record: dict[str, Any],
                 channels: dict[str, Message]) -> Found:
    """The leg a stored record describes, against the live channels by unique id."""
    operator = any(c.get("Channel", "").startswith(f"PJSIP/{seat}-")
                   and c.get("Linkedid") == call_id for c in channels.values())
    leg = Leg(record["leg"], call_id, record["mode"], record["number"], record.get("unit"),
              seat, phase="answered" if record.get("answered") else "ringing",
              operator_on_call=operator and record["mode"] != "blind",
              handed_over=bool(record.get("handed_over")))
    channel = channels.get(leg.id)
    if channel is None:  # it ended while nobody listened
        return Found(leg, [UnitGone(16 if leg.phase == "answered" else 0)])
    if leg.phase != "answered" and channel.get("ChannelStateDesc") == "Up":
        return Found(leg, [UnitAnswered()])
    return Found(leg, [])


def alone_in_rooms(channels: list[Message], busy_calls: set[str]) -> list[tuple[str, str]]:
    """(channel, room kind) of everyone alone in a room of a call with no transfer under way:
    "citizen" in the call's room, "operator" in a consult room."""
    rooms: dict[str, list[Message]] = {}
    for channel in channels:
        if channel.get("Application") == "ConfBridge":
            room = channel.get("ApplicationData", "").split(",", 1)[0]
            rooms.setdefault(room, []).append(channel)
    alone = []
    for room, members in rooms.items():
        kind, _, call_id = room.partition("-")
        if len(members) != 1 or call_id in busy_calls or kind not in ("hotline", "consult"):
            continue
        alone.append((members[0].get("Channel", ""), "citizen" if kind == "hotline"
                      else "operator"))
    return alone
