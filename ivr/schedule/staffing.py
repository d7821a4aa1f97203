"""Keeps the running PBX in line with the staffed hours, live.

The dialplan reads one global, HOTLINE_STAFFED (yes/no), to choose the day queue or the
night queue (asterisk_conf/extensions_queue.conf). This service sets it over AMI: at every
tick, so a change of hour, an edited schedule file or a `dialplan reload` (which resets
globals) takes effect within seconds, and right after every AMI (re)connect. If the service
is down, Asterisk keeps the last value and the dialplan still falls through to whichever
seats are on duty, or to a message: never a ring into nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ivr.errors import AmiError, AmiNotConnected
from ivr.schedule import hours as schedules
from ivr.schedule.hours import Schedule
from ivr.telephony.ami_client import AmiClient
from store.db import utcnow
from store.tasks import cancel_and_wait
from tickets.calendar import WorkCalendar

log = logging.getLogger(__name__)

TICK_SECONDS = 10.0


class Staffing:
    def __init__(self, path: Path, default: Schedule, calendar: WorkCalendar, timezone: str,
                 *, ami: AmiClient | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._path = path
        self._default = default
        self._calendar = calendar
        self._tz = ZoneInfo(timezone)
        self._clock = clock
        self._mtime: float | None = None
        self.schedule = default
        self.ami = ami
        self._task: asyncio.Task[None] | None = None

    def staffed(self) -> bool:
        return self.schedule.staffed(self._calendar, self._clock().astimezone(self._tz))

    def view(self) -> dict[str, Any]:
        staffed = self.staffed()
        return {"staffed": staffed, "mode_label": "日间受理" if staffed else "夜间值班",
                "schedule": self.schedule.as_dict(), "file": str(self._path)}

    async def update(self, fields: dict[str, Any]) -> dict[str, Any]:
        """An admin's edit: validated, written to the file, applied to the PBX at once."""
        schedule = schedules.parse(fields)
        await asyncio.to_thread(schedules.save, self._path, schedule)
        self.schedule = schedule
        self._mtime = await asyncio.to_thread(_mtime, self._path)
        await self._tell()
        return self.view()

    async def load(self) -> None:
        """Read the file before Asterisk starts; a broken file stops the start, loudly."""
        self._mtime = await asyncio.to_thread(_mtime, self._path)
        self.schedule = await asyncio.to_thread(schedules.load, self._path, self._default)

    async def start(self) -> None:
        """Keep Asterisk told, from now on."""
        self._task = asyncio.create_task(self._run(), name="staffing")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def apply(self) -> None:
        """Tell Asterisk whether the day seats answer now; raises AmiError if it cannot
        (the resynchronisation after a reconnect retries until it could)."""
        if self.ami is None:
            raise AmiNotConnected("staffing has no AMI connection")
        await self.ami.action("Setvar", Variable="HOTLINE_STAFFED",
                              Value="yes" if self.staffed() else "no")

    async def _tell(self) -> None:
        """`apply`, quietly waiting for AMI if it is down: the next tick, or the
        reconnect's resynchronisation, tells it."""
        if self.ami is None or not self.ami.connected:
            return
        try:
            await self.apply()
        except AmiError as exc:
            log.warning("could not set HOTLINE_STAFFED: %s", exc)

    async def _run(self) -> None:
        while True:
            await self._reload_if_edited()
            await self._tell()
            await asyncio.sleep(TICK_SECONDS)

    async def _reload_if_edited(self) -> None:
        mtime = await asyncio.to_thread(_mtime, self._path)
        if mtime == self._mtime:
            return
        try:
            self.schedule = await asyncio.to_thread(schedules.load, self._path, self._default)
            log.info("schedule reloaded from %s: %s", self._path, self.schedule.as_dict())
        except schedules.InvalidSchedule as exc:
            # Keep answering on the last good schedule; the admin sees why in the log.
            log.error("schedule file not applied, keeping the previous one: %s", exc)
        self._mtime = mtime


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None
