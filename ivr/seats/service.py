"""Operator seats: PJSIP endpoints rendered from the database and reloaded live, and queue
membership (ready / paused) driven over AMI and restored after Asterisk restarts."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.errors import AmiActionFailed, AmiNotConnected, HotlineError, NotFound
from ivr.seats.models import Seat
from ivr.telephony.ami_client import AmiClient
from store.db import Database, utcnow
from store.files import write_atomically
from store.transactions import with_session

log = logging.getLogger(__name__)

REALM = "hotline12345"
SEATS_CONF = "pjsip_seats.conf"
SEAT_NUMBER = re.compile(r"^[0-9]{3,8}$")
PAUSE_REASONS = {"break": "小休", "meal": "就餐", "training": "培训", "after_call": "话后处理",
                 "meeting": "会议", "other": "其他"}

ConfigApplier = Callable[[], Awaitable[None]]


class SeatsNotRestored(HotlineError):
    """Some seats that were signed in could not be put back into their queues (yet)."""


class InvalidSeat(HotlineError):
    http_status = 422

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def password_digest(number: str, password: str) -> str:
    # SIP digest authentication is defined over MD5 (RFC 2617); this is what PJSIP checks.
    return hashlib.md5(f"{number}:{REALM}:{password}".encode()).hexdigest()


def _check_seat(number: str, name: str | None) -> None:
    if not SEAT_NUMBER.match(number):
        raise InvalidSeat("number", "a seat number is 3 to 8 digits")
    if name is not None and len(name) > 64:
        raise InvalidSeat("name", "name is longer than 64 characters")


def render_seats(seats: list[Seat], media_address: str) -> str:
    """pjsip_seats.conf: one endpoint, auth and AOR per seat."""
    parts = ["; pjsip_seats.conf — rendered from the seats table by the hotline service;\n"
             "; `hotline seats add` changes it and reloads res_pjsip live.\n"]
    for seat in seats:
        label = (seat.name or f"Seat {seat.number}").replace('"', "")
        parts.append(f"""
[{seat.number}]
type = endpoint
transport = transport-udp
context = hotline-seat
disallow = all
allow = ulaw,alaw
auth = {seat.number}
aors = {seat.number}
callerid = "{label}" <{seat.number}>
media_address = {media_address}
bind_rtp_to_media_address = yes
rtp_symmetric = yes
direct_media = no
dtmf_mode = rfc4733

[{seat.number}]
type = auth
auth_type = digest
username = {seat.number}
realm = {REALM}
password_digest = MD5:{seat.password_digest}

[{seat.number}]
type = aor
max_contacts = 1
remove_existing = yes
qualify_frequency = 30
""")
    return "".join(parts)


def seat_view(seat: Seat) -> dict[str, Any]:
    state = "paused" if seat.in_queue and seat.paused else "ready" if seat.in_queue else "off"
    return {"seat": seat.number, "name": seat.name, "state": state, "night": bool(seat.night),
            "pause_reason": seat.pause_reason if state == "paused" else None,
            "since": seat.state_changed.isoformat() if seat.state_changed else None}


class SeatService:
    def __init__(self, db: Database, etc_dir: Path, media_address: str, queue: str,
                 night_queue: str, *, ami: AmiClient | None = None,
                 apply_config: ConfigApplier | None = None) -> None:
        """ami: None where no PBX connection exists (`hotline seats add` from the shell);
        apply_config: how an added seat goes live (e.g. `pjsip reload`)."""
        self._db = db
        self._etc_dir = etc_dir
        self._media_address = media_address
        self._queue = queue
        self._night_queue = night_queue
        self.ami = ami
        # One seat's queue changes happen one at a time: an operator's pause must not be
        # undone by a restore that read the seat just before it.
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.apply_config = apply_config

    async def write_config(self) -> None:
        async with self._db.session() as session:
            seats = list(await session.scalars(select(Seat).order_by(Seat.number)))
        await asyncio.to_thread(write_atomically, self._etc_dir / SEATS_CONF,
                                render_seats(seats, self._media_address))

    async def add(self, number: str, password: str, name: str | None = None,
                  night: bool | None = None) -> dict[str, Any]:
        """Add a seat, or change its password, name or shift. A seat already signed in
        moves to its new shift's queue the next time it goes ready or pauses."""
        _check_seat(number, name)
        if len(password) < 8:
            raise InvalidSeat("password", "a seat password has at least 8 characters")
        digest = password_digest(number, password)

        def store(session: Session) -> Seat:
            seat = session.get(Seat, number)
            if seat is None:
                seat = Seat(number=number, in_queue=False, paused=False)
                session.add(seat)
            seat.name = name or seat.name
            if night is not None:
                seat.night = night
            seat.password_digest = digest
            return seat

        seat = await self._db.write(with_session, store)
        await self.write_config()
        if self.apply_config is not None:
            await self.apply_config()
        return seat_view(seat)

    async def declare(self, number: str, name: str | None, night: bool) -> bool:
        """A seat as the admin's seats.toml declares it (ivr/conf/directory.py): its name and
        shift set, its password left as it is. A new seat gets a random password that is
        shown to no one, so it cannot register until the admin sets one with `hotline seats
        add`: a config file never holds a secret. True when the seat was created."""
        _check_seat(number, name)

        def store(session: Session) -> bool:
            seat = session.get(Seat, number)
            created = seat is None
            if seat is None:
                seat = Seat(number=number, in_queue=False, paused=False,
                            password_digest=password_digest(number, secrets.token_urlsafe(24)))
                session.add(seat)
            seat.name, seat.night = name, night
            return created

        created = await self._db.write(with_session, store)
        await self.write_config()  # the name is the endpoint's caller id
        if self.apply_config is not None:
            await self.apply_config()
        return created

    async def list(self) -> list[dict[str, Any]]:
        async with self._db.session() as session:
            return [seat_view(s) for s in await session.scalars(select(Seat).order_by(
                Seat.number))]

    async def _seat(self, number: str) -> Seat:
        async with self._db.session() as session:
            seat = await session.get(Seat, number)
        if seat is None:
            raise NotFound(f"no seat {number}")
        return seat

    def _interface(self, number: str) -> str:
        return f"PJSIP/{number}"

    def _queues(self, seat: Seat) -> tuple[str, str]:
        """(the queue this seat's shift answers, the other one)."""
        if seat.night:
            return self._night_queue, self._queue
        return self._queue, self._night_queue

    async def _leave(self, queue: str, number: str) -> None:
        assert self.ami is not None
        try:
            await self.ami.action("QueueRemove", Queue=queue, Interface=self._interface(number))
        except AmiActionFailed as exc:
            if "Not there" not in str(exc):
                raise

    async def _join_queue(self, seat: Seat, paused: bool, reason: str | None) -> None:
        if self.ami is None:
            raise AmiNotConnected("the seat service has no AMI connection")
        queue, other = self._queues(seat)
        await self._leave(other, seat.number)  # its shift changed while signed in
        try:
            await self.ami.action("QueueAdd", Queue=queue,
                                  Interface=self._interface(seat.number),
                                  MemberName=f"Seat {seat.number}",
                                  StateInterface=self._interface(seat.number),
                                  Paused="true" if paused else "false")
        except AmiActionFailed as exc:
            if "Already there" not in str(exc):
                raise
        fields = {"Queue": queue, "Interface": self._interface(seat.number),
                  "Paused": "true" if paused else "false"}
        if paused and reason:
            fields["Reason"] = reason
        await self.ami.action("QueuePause", **fields)

    async def set_state(self, number: str, *, paused: bool,
                        reason: str | None = None) -> dict[str, Any]:
        if paused and reason is not None and reason not in PAUSE_REASONS:
            raise InvalidSeat("reason", f"reason must be one of {', '.join(PAUSE_REASONS)}")
        async with self._locks[number]:
            seat = await self._seat(number)
            await self._join_queue(seat, paused, reason)
            return await self._store_state(number, in_queue=True, paused=paused,
                                           reason=reason if paused else None)

    async def sign_out(self, number: str) -> dict[str, Any]:
        """签出: the seat leaves the queue (end of shift); it is not restored after restarts."""
        async with self._locks[number]:
            seat = await self._seat(number)
            if self.ami is None:
                raise AmiNotConnected("the seat service has no AMI connection")
            for queue in self._queues(seat):
                await self._leave(queue, seat.number)
            return await self._store_state(number, in_queue=False, paused=False, reason=None)

    async def _store_state(self, number: str, *, in_queue: bool, paused: bool,
                           reason: str | None) -> dict[str, Any]:
        """Keep what the PBX was just told, so it can be restored after a restart."""
        def store(session: Session) -> Seat:
            stored = session.get(Seat, number)
            assert stored is not None
            stored.in_queue, stored.paused, stored.pause_reason = in_queue, paused, reason
            stored.state_changed = utcnow()
            return stored

        return seat_view(await self._db.write(with_session, store))

    async def resync(self) -> None:
        """After (re)connecting: put every seat that was in the queue back, as it was.

        Queue membership lives in Asterisk's memory; a restarted Asterisk has none. Raises
        SeatsNotRestored naming the seats it could not restore, after trying every one;
        re-running it is harmless (QueueAdd of a member already there is accepted)."""
        async with self._db.session() as session:
            numbers = list(await session.scalars(
                select(Seat.number).where(Seat.in_queue.is_(True)).order_by(Seat.number)))
        restored, failed = [], []
        for number in numbers:
            try:
                if await self._restore(number):
                    restored.append(number)
            except HotlineError as exc:
                log.warning("could not restore seat %s to its queue: %s", number, exc)
                failed.append(number)
        if failed:
            raise SeatsNotRestored(f"seats {', '.join(failed)} not back in their queues")
        if restored:
            log.info("restored %d seats to their queues: %s", len(restored),
                     ", ".join(restored))

    async def _restore(self, number: str) -> bool:
        """One seat back into its queue, as the database says now (read under its lock)."""
        async with self._locks[number]:
            async with self._db.session() as session:
                seat = await session.get(Seat, number)
            if seat is None or not seat.in_queue:
                return False  # signed out meanwhile
            await self._join_queue(seat, seat.paused, seat.pause_reason)
            return True
