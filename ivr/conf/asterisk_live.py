"""Putting a configuration's Asterisk files into the live Asterisk: write them, reload
the modules that read them through AMI `Reload` (its Response checked), and verify what
Asterisk made of them — the hotline's contexts all there, no application it lacks, no new
complaint in its log. A reload changes no call in progress: a caller in the menu or the
queue is inside an application, which a dialplan reload does not touch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.conf.check import Finding
from ivr.conf.dialplan import Complaint, judge
from ivr.conf.scratch import scratch_check, staged_files
from ivr.conf.store import ASTERISK_DIR
from ivr.errors import HotlineError
from ivr.settings import Settings
from ivr.telephony.ami_client import AmiClient
from ivr.telephony.asterisk_config import (
    AMI_USER,
    ami_secret,
    ari_password,
    changed_files,
    write_config,
)
from ivr.telephony.asterisk_process import AsteriskInstall, AsteriskProcess

log = logging.getLogger(__name__)

# Which module reads which file: only those are reloaded.
_MODULES = {"queues.conf": "app_queue.so", "confbridge.conf": "app_confbridge.so",
            "pjsip.conf": "res_pjsip.so", "musiconhold.conf": "res_musiconhold.so",
            "features.conf": "features", "manager.conf": "manager", "http.conf": "http",
            "ari.conf": "res_ari.so", "rtp.conf": "res_rtp_asterisk.so",
            "logger.conf": "logger", "cdr.conf": "cdr", "acl.conf": "acl"}


def module_of(name: str) -> str:
    return "pbx_config.so" if name.startswith("extensions") else _MODULES.get(name, "")


@dataclass(frozen=True)
class Reloaded:
    changed: set[str]
    complaints: list[Complaint]


class LiveAsterisk:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._install = AsteriskInstall.locate(settings.asterisk_root)
        self._layout = self._install.layout(settings.asterisk_dir)
        self._process = AsteriskProcess(self._install, self._layout)

    async def running(self) -> bool:
        try:
            await self._process.rx("core waitfullybooted", timeout=5)
        except HotlineError:
            return False
        return True

    async def files_for(self, overrides: Mapping[str, str], ami: AmiClient) -> dict[str, str]:
        """What the live Asterisk's files would be with these overrides; the staffed-hours
        global is the value Asterisk holds now (a reload resets globals to the file's)."""
        staffed = (await ami.action("Getvar", Variable="HOTLINE_STAFFED")).get("Value") != "no"
        s = self._settings
        return await asyncio.to_thread(
            lambda: staged_files(s, self._layout.root, self._install, overrides,
                                 secret=ami_secret(s), ari_password=ari_password(s),
                                 staffed=staffed))

    async def put(self, files: dict[str, str], ami: AmiClient) -> Reloaded:
        """Write the files, reload what reads the changed ones, say what Asterisk made of
        them. The log is read from where it stood before the reload: old complaints are
        not this change's."""
        changed = await asyncio.to_thread(changed_files, self._layout, files)
        if not changed:
            return Reloaded(set(), [])
        log_file = self._layout.log_dir / "messages.log"
        offset = await asyncio.to_thread(lambda: log_file.stat().st_size
                                         if log_file.exists() else 0)
        await asyncio.to_thread(write_config, self._layout, files)
        complaints: list[Complaint] = []
        for module in sorted({module_of(name) for name in changed}):
            try:
                fields = {"Module": module} if module else {}
                await ami.action("Reload", timeout=15, **fields)
            except HotlineError as exc:
                complaints.append(Complaint("", 0, f"Asterisk 拒绝重新加载 "
                                                   f"{module or '全部模块'}：{exc}"))
        complaints += await self._verify(files, log_file, offset)
        return Reloaded(changed, complaints)

    async def _verify(self, files: dict[str, str], log_file: Path,
                      offset: int) -> list[Complaint]:
        dialplan = await self._process.rx("dialplan show")
        known = await self._process.rx("core show applications")

        def new_log() -> str:
            try:
                with log_file.open(errors="replace") as f:
                    f.seek(offset)
                    return f.read()
            except FileNotFoundError:
                return ""

        return judge(dialplan, known, await asyncio.to_thread(new_log), files)


async def ami_for(settings: Settings) -> AmiClient:
    """An AMI login of the command's own (the service keeps its own connection)."""
    secret = await asyncio.to_thread(ami_secret, settings)
    client = AmiClient(settings.local_host, settings.ami_port, AMI_USER, secret,
                       ping_interval=30)
    await client.start()
    try:
        await client.wait_connected(10)
    except HotlineError:
        await client.stop()
        raise
    return client


class AsteriskSide:
    """The Asterisk half of `hotline conf apply`: judge a configuration's Asterisk files
    in a scratch instance; put them into the live one, reloaded and verified."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._live = LiveAsterisk(settings)

    async def check(self, overrides: Mapping[str, str]) -> list[Finding]:
        return await scratch_check(self._settings, overrides,
                                   self._settings.conf_dir / ASTERISK_DIR)

    async def put(self, overrides: Mapping[str, str]) -> list[str]:
        """What went wrong putting them live ([]: nothing). With no Asterisk running
        nothing is written: the hotline renders the live version when it starts."""
        if not await self._live.running():
            return []
        try:
            ami = await ami_for(self._settings)
        except HotlineError as exc:
            return [f"无法登录 AMI 来重新加载 Asterisk：{exc}"]
        try:
            reloaded = await self._live.put(await self._live.files_for(overrides, ami), ami)
        except HotlineError as exc:
            return [f"重新加载 Asterisk 失败：{exc}"]
        finally:
            await ami.stop()
        if reloaded.changed:
            log.info("asterisk reloaded %s", ", ".join(sorted(reloaded.changed)))
        return [f"{c.file}:{c.line}: {c.message}" if c.file else c.message
                for c in reloaded.complaints]
