"""The races a transfer meets, in each order, on the service with its real call records and
a recording stand-in for the AMI steps (the same races run end to end with real calls in
tests/e2e/test_transfers.py where SIP lets a test time them). Whatever the order, no
channel is left behind and the leg's record says what happened."""

import asyncio

import pytest

from ivr.calls.call_log import CallLog
from ivr.transfers.control import CallChannels
from ivr.transfers.service import TransferService

CALL, SEAT = "9.1", "1201"


class RecordingControl:
    """What the service asked of Asterisk, in order."""

    def __init__(self):
        self.steps = []

    async def channels_of(self, call_id, seat):
        return CallChannels("PJSIP/trunk-1", False, "PJSIP/1201-2")

    async def live_channels(self):
        return []

    async def into_rooms(self, channels, operator_to):
        self.steps.append(("into_rooms", operator_to))

    async def place(self, leg_id, call_id, dial, **kw):
        self.steps.append(("place", dial))

    def trunk_dial(self, number):
        return f"PJSIP/{number}@trunk"

    async def move(self, channel, exten):
        self.steps.append(("move", channel, exten))

    async def hang_up(self, channel):
        self.steps.append(("hang_up", channel))

    async def to_queue(self, channel):
        self.steps.append(("to_queue", channel))


@pytest.fixture
async def service(db):
    calls = CallLog(db)
    await calls.call_arrived(CALL, "13900000001")
    await calls.answered(CALL, SEAT, 1.0)

    async def unit(code):
        return {"code": code, "name": "市住房和城乡建设局"}, "2001"

    control = RecordingControl()
    transfers = TransferService(calls, unit, control)
    await transfers.start()
    yield transfers, control, calls
    await transfers.stop()


def event(name, uid, **fields):
    return {"Event": name, "Uniqueid": uid, **fields}


async def settle(transfers):
    await transfers.idle()
    await asyncio.sleep(0)


@pytest.mark.parametrize("citizen_first", [False, True])
async def test_the_unit_answers_as_the_caller_hangs_up(service, citizen_first):
    transfers, control, calls = service
    leg = await transfers.request(CALL, SEAT, "blind", unit="ZJJ")
    answered = event("Newstate", leg["leg"], ChannelStateDesc="Up")
    gone = event("Hangup", CALL, Cause="16")
    for message in ([gone, answered] if citizen_first else [answered, gone]):
        transfers.on_event(message)
    await settle(transfers)
    assert ("hang_up", leg["leg"]) in control.steps  # the unit is not left in the room
    [record] = (await calls.get(CALL)).transfers
    assert record["ended"] and record["outcome"] == ("cancelled" if citizen_first
                                                     else "answered")
    assert transfers.open_leg(CALL) is None


@pytest.mark.parametrize("click_first", [False, True])
async def test_cancel_as_the_unit_answers(service, click_first):
    transfers, control, _calls = service
    leg = await transfers.request(CALL, SEAT, "consult", unit="ZJJ")
    answered = event("Newstate", leg["leg"], ChannelStateDesc="Up")
    if not click_first:
        transfers.on_event(answered)
    cancelling = asyncio.create_task(transfers.click(CALL, SEAT, "cancel"))
    if click_first:
        transfers.on_event(answered)
    done = await cancelling
    await settle(transfers)
    assert done["outcome"] == "cancelled"
    assert ("hang_up", leg["leg"]) in control.steps
    assert ("move", "PJSIP/1201-2", "member") in control.steps  # back with the caller
    assert transfers.open_leg(CALL) is None
    # a second cancel is refused, not repeated
    with pytest.raises(Exception, match="no transfer under way"):
        await transfers.click(CALL, SEAT, "cancel")


async def test_two_requests_at_once_place_one_leg(service):
    transfers, control, _calls = service
    results = await asyncio.gather(*(transfers.request(CALL, SEAT, "blind", unit="ZJJ")
                                     for _ in range(2)), return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert [s for s in control.steps if s[0] == "place"] == [("place", "PJSIP/2001@trunk")]


async def test_a_busy_unit_rings_the_operator_back_and_a_missed_ring_back_queues(service):
    transfers, control, calls = service
    leg = await transfers.request(CALL, SEAT, "blind", unit="ZJJ")
    transfers.on_event(event("Hangup", leg["leg"], Cause="17"))
    await settle(transfers)
    assert ("place", f"PJSIP/{SEAT}") in control.steps
    transfers.on_event(event("Hangup", f"{leg['leg']}-back", Cause="19"))
    await settle(transfers)
    assert control.steps[-1] == ("to_queue", CALL)  # never a hang-up
    [record] = (await calls.get(CALL)).transfers
    assert record["outcome"] == "busy"
