"""What an AMI event on a unit's leg channel means for the leg (ivr/transfers/legs.py)."""

from __future__ import annotations

from ivr.telephony.ami_client import Message
from ivr.transfers.legs import Happened, UnitAnswered, UnitGone, UnitRinging


def leg_event(message: Message) -> Happened | None:
    """Newstate Ringing/Up and Hangup (with its cause); None for anything else."""
    event = message.get("Event")
    if event == "Newstate":
        state = message.get("ChannelStateDesc")
        if state == "Ringing":
            return UnitRinging()
        if state == "Up":
            return UnitAnswered()
    elif event == "Hangup":
        try:
            return UnitGone(int(message.get("Cause") or 0))
        except ValueError:
            return UnitGone(0)
    return None
