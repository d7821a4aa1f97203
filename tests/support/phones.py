"""Seats with users and answering SIP phones, as the supervision tests need them."""

from __future__ import annotations

import asyncio

from tests.support.sipp import answer_one_call, free_udp_port, register
from tests.support.stack import Stack


async def staffed_phones(stack: Stack, *people: tuple[str, str, str]) -> list[asyncio.Task[str]]:
    """For each (seat, user, role): add the seat and its user (password "<user>-password"),
    and register a phone that answers one call. Returns the phones (each its SIP trace)."""
    ports = []
    phones = []
    for seat, user, role in people:
        assert stack.cli("seats", "add", seat, "--password", f"seat-{seat}-pass").returncode == 0
        assert stack.cli("users", "add", user, "--role", role, "--password", f"{user}-password",
                         "--seat", seat).returncode == 0
        port = free_udp_port()
        ports.append(port)
        phones.append(asyncio.create_task(answer_one_call(port, timeout=60)))
    await asyncio.sleep(0.5)  # the phones listen before they register
    for (seat, _user, _role), port in zip(people, ports, strict=True):
        assert (await register(stack.sip_port, seat, f"seat-{seat}-pass", port)).ok
    return phones
