"""The resynchronisation after an AMI (re)connect, on a real database against a scripted
AMI peer that answers like an Asterisk still loading its modules."""

import asyncio
import logging

import pytest

from ivr.seats.service import SeatService, SeatsNotRestored
from ivr.telephony.ami_client import AmiClient
from ivr.telephony.resync import Resync
from tests.support.ami_peer import ScriptedAmi
from tests.support.stack import eventually


@pytest.fixture
async def peer():
    ami = ScriptedAmi()
    await ami.start()
    yield ami
    await ami.stop()


@pytest.fixture
async def seats(db, tmp_path, peer):
    service = SeatService(db, tmp_path, "127.0.0.1", "hotline", "hotline-night")
    client = AmiClient("127.0.0.1", peer.port, "hotline", "right", action_timeout=1,
                       ping_interval=0.2, connect_timeout=1, max_backoff=0.2)
    service.ami = client
    await client.start()
    await client.wait_connected(3)
    for number in ("1001", "1002", "1003"):
        await service.add(number, f"seat-{number}-pass")
    await service.set_state("1001", paused=False)
    await service.set_state("1002", paused=True, reason="meal")
    yield service, client
    await client.stop()


def queue_actions(peer, since):
    return [(m["Action"], m["Interface"], m.get("Paused")) for m in peer.received[since:]
            if m["Action"] in ("QueueAdd", "QueuePause")]


async def test_seats_not_restored_are_retried_until_they_are(seats, peer, caplog):
    service, _client = seats
    resync = Resync({"seats": service.resync}, first_delay=0.05, max_delay=0.1)
    since = len(peer.received)
    peer.unknown["QueueAdd"] = 1000  # app_queue still loading: every add fails
    caplog.set_level(logging.INFO)
    running = asyncio.create_task(resync.run())
    await eventually(lambda: asyncio.sleep(0, 1000 - peer.unknown["QueueAdd"] >= 4),
                     timeout=5, what="two rounds of failing adds")
    assert "seats" in resync.pending and not running.done(), "not restored while adds fail"
    peer.unknown["QueueAdd"] = 0  # loaded
    await asyncio.wait_for(running, 5)
    assert resync.pending == set()
    # In the end each signed-in seat is in its queue as it was; the signed-out one is not.
    final = {}
    for action, interface, paused in queue_actions(peer, since):
        if action == "QueuePause":
            final[interface] = paused
    assert final == {"PJSIP/1001": "false", "PJSIP/1002": "true"}
    restored = [r.getMessage() for r in caplog.records if "restored" in r.getMessage()
                and r.name == "ivr.seats.service"]
    assert restored == ["restored 2 seats to their queues: 1001, 1002"], \
        "success is logged once, and only once it is true"
    assert any("not restored yet" in r.getMessage() for r in caplog.records)


async def test_a_partial_failure_names_the_seats_left_out(seats, peer):
    service, _client = seats
    peer.unknown["QueueAdd"] = 1  # the first seat fails, the second goes back
    with pytest.raises(SeatsNotRestored, match="1001") as raised:
        await service.resync()
    assert "1002" not in str(raised.value)


async def test_a_seat_paused_during_a_restore_stays_paused(seats, peer):
    """The operator's own change is never undone by a restore that read the seat first."""
    service, _client = seats
    await asyncio.gather(service.resync(),
                         service.set_state("1001", paused=True, reason="break"))
    pauses = [m for m in peer.received if m["Action"] == "QueuePause"
              and m["Interface"] == "PJSIP/1001"]
    assert pauses[-1]["Paused"] == "true"
    assert (await service.list())[0]["state"] == "paused"


async def test_a_lost_connection_makes_every_part_pending_again(seats, peer):
    service, client = seats
    runs = []

    async def calls():
        runs.append("calls")

    resync = Resync({"calls": calls, "seats": service.resync}, first_delay=0.05)
    pending_when_lost = []

    def lost():
        resync.reset()
        pending_when_lost.append(set(resync.pending))

    client.on_connected = resync.run
    client.on_disconnected = lost
    peer.drop_all()
    await eventually(lambda: asyncio.sleep(0, pending_when_lost), timeout=3,
                     what="the drop noticed")
    assert pending_when_lost == [{"calls", "seats"}]
    await client.wait_connected(3)
    await eventually(lambda: asyncio.sleep(0, not resync.pending), timeout=5,
                     what="everything restored after the reconnect")
    assert runs == ["calls"] and resync.rounds == 1
