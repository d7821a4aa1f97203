"""The AMI client against a scripted Asterisk Manager peer on loopback."""

import asyncio

import pytest

from ivr.ami_client import AmiClient, format_action, parse_message
from ivr.errors import AmiActionFailed, AmiNotConnected, AmiTimeout
from tests.support.sipp import free_tcp_port


class ScriptedAmi:
    """Speaks enough AMI: banner, Login, Ping, a list action, and faults on demand."""

    def __init__(self) -> None:
        self.port = free_tcp_port()
        self.received: list[dict[str, str]] = []
        self.answer_pings = True
        self.logins = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self.drop_all()
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    def drop_all(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def send_event(self, text: str) -> None:
        for writer in self._writers:
            writer.write(text.encode())

    async def _serve(self, reader, writer) -> None:
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                message = parse_message(await reader.readuntil(b"\r\n\r\n"))
                self.received.append(message)
                reply = self._reply(message)
                if reply:
                    writer.write(reply.encode())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    def _reply(self, m: dict[str, str]) -> str | None:
        aid = m["ActionID"]
        action = m["Action"]
        if action == "Login":
            if m.get("Secret") != "right":
                return (f"Response: Error\r\nActionID: {aid}\r\n"
                        "Message: Authentication failed\r\n\r\n")
            self.logins += 1
            return (f"Response: Success\r\nActionID: {aid}\r\n"
                    "Message: Authentication accepted\r\n\r\n")
        if action == "Ping":
            if not self.answer_pings:
                return None
            return f"Response: Success\r\nActionID: {aid}\r\nPing: Pong\r\n\r\n"
        if action == "CoreShowChannels":
            return (f"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n\r\n"
                    f"Event: CoreShowChannel\r\nActionID: {aid}\r\nChannel: PJSIP/a-1\r\n"
                    f"Uniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n"
                    f"Event: CoreShowChannel\r\nActionID: {aid}\r\nChannel: PJSIP/b-2\r\n"
                    f"Uniqueid: 1.2\r\nLinkedid: 1.1\r\n\r\n"
                    f"Event: CoreShowChannelsComplete\r\nActionID: {aid}\r\n"
                    f"EventList: Complete\r\nListItems: 2\r\n\r\n")
        if action == "Fail":
            return f"Response: Error\r\nActionID: {aid}\r\nMessage: No such thing\r\n\r\n"
        return None  # "Originate" and anything else: never answered


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
