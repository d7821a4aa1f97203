"""A scripted Asterisk Manager peer on loopback, for the AMI client and resync tests."""

import asyncio

from ivr.telephony.ami_client import parse_message
from tests.support.sipp import free_tcp_port


class ScriptedAmi:
    """Speaks enough AMI: banner, Login, Ping, a list action, and faults on demand."""

    def __init__(self) -> None:
        self.port = free_tcp_port()
        self.received: list[dict[str, str]] = []
        self.answer_pings = True
        self.logins = 0
        self.booted = asyncio.Event()  # `core waitfullybooted` answers once this is set
        self.booted.set()
        # action -> how many more times to answer "Invalid/unknown command", as Asterisk
        # does for a module's actions while that module is still loading
        self.unknown: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
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
                if message.get("Action") == "Command":
                    self._tasks.add(asyncio.create_task(
                        self._answer_when_booted(writer, message["ActionID"])))
                    continue
                reply = self._reply(message)
                if reply:
                    writer.write(reply.encode())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    async def _answer_when_booted(self, writer, action_id: str) -> None:
        await self.booted.wait()
        writer.write(f"Response: Success\r\nActionID: {action_id}\r\n"
                     "Output: Asterisk has fully booted.\r\n\r\n".encode())

    def _reply(self, m: dict[str, str]) -> str | None:
        aid = m["ActionID"]
        action = m["Action"]
        if self.unknown.get(action, 0) > 0:
            self.unknown[action] -= 1
            return (f"Response: Error\r\nActionID: {aid}\r\n"
                    f"Message: Invalid/unknown command: {action}\r\n\r\n")
        if action in ("QueueAdd", "QueuePause", "QueueRemove", "Setvar"):
            return f"Response: Success\r\nActionID: {aid}\r\nMessage: Done\r\n\r\n"
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
