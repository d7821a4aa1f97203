"""The AMI client against a scripted Asterisk Manager peer on loopback."""

import asyncio

import pytest

from ivr.errors import AmiActionFailed, AmiNotConnected, AmiTimeout
from ivr.telephony.ami_client import AmiClient, format_action, parse_message
from tests.support.ami_peer import ScriptedAmi


@pytest.fixture
async def ami():
    peer = ScriptedAmi()
    await peer.start()
    clients: list[AmiClient] = []

    def make(secret: str = "right", **kw) -> AmiClient:
        client = AmiClient("127.0.0.1", peer.port, "hotline", secret, action_timeout=0.5,
                           ping_interval=0.2, connect_timeout=1, max_backoff=0.2, **kw)
        clients.append(client)
        return client

    yield peer, make
    for client in clients:
        await client.stop()
    await peer.stop()


def test_frames_round_trip():
    frame = format_action("QueuePause", "a-1", {"Queue": "hotline", "Paused": "true"})
    assert parse_message(frame) == {"Action": "QueuePause", "ActionID": "a-1",
                                    "Queue": "hotline", "Paused": "true"}
    both = parse_message(b"Event: X\r\nChanVariable: A=1\r\nChanVariable: B=2\r\n\r\n")
    assert both["ChanVariable"] == "A=1\nB=2"


def test_a_field_cannot_smuggle_a_second_action():
    with pytest.raises(Exception, match="one line"):
        format_action("Originate", "1", {"Channel": "PJSIP/1\r\nAction: Hangup"})


async def test_connected_only_after_login_succeeded(ami):
    peer, make = ami
    client = make()
    assert not client.connected
    await client.start()
    await client.wait_connected(2)
    assert client.connected and peer.logins == 1


async def test_wrong_secret_never_counts_as_connected(ami):
    _peer, make = ami
    client = make(secret="wrong")
    await client.start()
    with pytest.raises(AmiNotConnected):
        await client.wait_connected(0.8)


async def test_actions_time_out(ami):
    _peer, make = ami
    client = make()
    await client.start()
    await client.wait_connected(2)
    with pytest.raises(AmiTimeout):
        await client.action("Originate", Channel="PJSIP/1001")


async def test_error_responses_raise(ami):
    _peer, make = ami
    client = make()
    await client.start()
    await client.wait_connected(2)
    with pytest.raises(AmiActionFailed, match="No such thing"):
        await client.action("Fail")


async def test_list_actions_collect_their_events_and_do_not_leak_them(ami):
    _peer, make = ami
    events = []
    client = make(on_event=events.append)
    await client.start()
    await client.wait_connected(2)
    channels = await client.list_action("CoreShowChannels")
    assert [c["Channel"] for c in channels] == ["PJSIP/a-1", "PJSIP/b-2"]
    assert events == []


async def test_live_events_reach_the_handler(ami):
    peer, make = ami
    events = []
    client = make(on_event=events.append)
    await client.start()
    await client.wait_connected(2)
    peer.send_event("Event: Hangup\r\nUniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n")
    for _ in range(50):
        if events:
            break
        await asyncio.sleep(0.02)
    assert events == [{"Event": "Hangup", "Uniqueid": "1.1", "Linkedid": "1.1"}]


async def test_unanswered_pings_drop_the_connection_and_it_comes_back(ami):
    peer, make = ami
    connects = []

    async def on_connected():
        connects.append(1)

    client = make(on_connected=on_connected)
    await client.start()
    await client.wait_connected(2)
    peer.answer_pings = False  # TCP stays open, Asterisk stays silent
    for _ in range(100):
        if not client.connected:
            break
        await asyncio.sleep(0.02)
    assert not client.connected, "a silent peer must be noticed by the keep-alive"
    peer.answer_pings = True
    await client.wait_connected(3)
    assert len(connects) >= 2, "every reconnect must resynchronise"


async def test_pending_actions_fail_on_disconnect_and_are_never_resent(ami):
    peer, make = ami
    client = make()
    await client.start()
    await client.wait_connected(2)
    originate = asyncio.create_task(client.action("Originate", timeout=5,
                                                  Channel="PJSIP/unit"))
    await asyncio.sleep(0.1)
    peer.drop_all()
    with pytest.raises(AmiNotConnected):
        await originate
    await client.wait_connected(3)
    await asyncio.sleep(0.5)
    originates = [m for m in peer.received if m["Action"] == "Originate"]
    assert len(originates) == 1, "an Originate must never be sent twice"


async def test_actions_while_disconnected_fail_fast(ami):
    _peer, make = ami
    client = make()
    with pytest.raises(AmiNotConnected):
        await client.action("Ping")


async def test_connected_only_once_asterisk_has_fully_booted(ami):
    """AMI takes logins before app_queue has loaded; nothing may count as connected, and
    no resynchronisation may run, until Asterisk says it has fully booted."""
    peer, make = ami
    peer.booted.clear()
    resyncs = []

    async def on_connected():
        resyncs.append(await client.action("QueueAdd", Queue="hotline"))

    client = make(on_connected=on_connected)
    await client.start()
    with pytest.raises(AmiNotConnected):
        await client.wait_connected(0.6)
    assert peer.logins == 1 and resyncs == []
    peer.booted.set()
    await client.wait_connected(2)
    for _ in range(50):
        if resyncs:
            break
        await asyncio.sleep(0.02)
    assert resyncs and resyncs[0]["Message"] == "Done"


async def test_a_long_resynchronisation_does_not_stop_the_keep_alive(ami):
    peer, make = ami
    release = asyncio.Event()

    async def on_connected():
        await release.wait()  # a resync retrying for a while

    client = make(on_connected=on_connected)
    await client.start()
    await client.wait_connected(2)
    peer.answer_pings = False
    for _ in range(100):
        if not client.connected:
            break
        await asyncio.sleep(0.02)
    assert not client.connected, "a dead connection is noticed even during a resync"
    release.set()
