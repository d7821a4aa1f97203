"""The part of Asterisk's AMI the benchmarks play: greet, then answer every action."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


async def answered_actions(reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                           ) -> AsyncIterator[tuple[bytes, bytes]]:
    """Greet the client, then for each action it sends: answer Success and yield the frame
    and its ActionID, so the caller can add what that action needs. Ends when the client
    goes."""
    writer.write(b"Asterisk Call Manager/9.0.0\r\n")
    while True:
        try:
            frame = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        action_id = next((line.split(b": ", 1)[1] for line in frame.split(b"\r\n")
                          if line.startswith(b"ActionID: ")), b"")
        writer.write(b"Response: Success\r\nActionID: " + action_id + b"\r\n\r\n")
        yield frame, action_id
