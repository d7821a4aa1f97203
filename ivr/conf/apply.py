"""Putting the admin's working copy live, and an older version back: check it (the menu,
then its Asterisk files in a scratch Asterisk), show the change, build its prompts, keep
it as a version, swap the live link, reload the live Asterisk and verify it, and verify
the running hotline took the menu — putting the version before it back, files and
reload, when anything fails.

Blocking file work runs in workers: the admin page calls this inside the service.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ivr.conf.check import Finding, check_menu
from ivr.conf.live import read_running
from ivr.conf.store import ASTERISK_DIR, ConfStore, asterisk_overrides, summary_of
from ivr.menu.checks import KnownWorld
from ivr.menu.prompts import build_prompts
from ivr.telephony.asterisk_config import TEMPLATE_DIR

VERIFY_SECONDS = 10.0  # the service looks at the live link every second
Outcome = Literal["applied", "unchanged", "refused", "dry_run", "declined", "rolled_back",
                  "not_running"]
Confirm = Callable[[str], Awaitable[bool]]  # shown the diff: go ahead?


@dataclass
class ApplyResult:
    outcome: Outcome
    message: str
    diff: str = ""
    version: int | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("applied", "unchanged", "dry_run", "not_running")


class AsteriskSide(Protocol):
    """ivr/conf/asterisk_live.py's AsteriskSide; None where no Asterisk is involved."""

    async def check(self, overrides: Mapping[str, str]) -> list[Finding]: ...

    async def put(self, overrides: Mapping[str, str]) -> list[str]: ...


@dataclass(frozen=True)
class Prompts:
    """Where the menu's own prompt texts are synthesised before it goes live."""

    sounds_dir: Path
    recorded_dir: Path


async def apply_working_copy(store: ConfStore, world: KnownWorld, prompts: Prompts,
                             asterisk: AsteriskSide | None, *, by: str, confirm: Confirm,
                             dry_run: bool = False) -> ApplyResult:
    await asyncio.to_thread(store.ensure)
    tree, findings = await asyncio.to_thread(check_menu, store.working_file("menu.toml"), world)
    findings += await asyncio.to_thread(check_override_names, store)
    if tree is None or findings:
        return _refused(findings)
    diff = await asyncio.to_thread(store.diff)
    if not diff:
        return ApplyResult("unchanged", "the working copy is what is live; nothing to apply")
    if asterisk is not None:  # the staged Asterisk files, loaded by a scratch Asterisk
        findings = await asterisk.check(await asyncio.to_thread(asterisk_overrides, store.dir))
        if findings:
            return _refused(findings, diff)
    if dry_run:
        return ApplyResult("dry_run", "dry run: checked, nothing was changed", diff)
    if not await confirm(diff):
        return ApplyResult("declined", "not applied", diff)
    # The new menu's own prompts exist before any call can reach them (the catalog's
    # are built when the hotline starts).
    if tree.prompt_texts:
        await build_prompts(prompts.sounds_dir, prompts.recorded_dir, dict(tree.prompt_texts))
    previous = await asyncio.to_thread(store.live_version)
    version = await asyncio.to_thread(store.snapshot, by, summary_of(diff), "ok")
    return await _go_live(store, asterisk, version.number, previous, diff)


def check_override_names(store: ConfStore) -> list[Finding]:
    """An Asterisk file of the admin's must replace a template or add to the dialplan."""
    templates = {p.name for p in TEMPLATE_DIR.glob("*.conf")}
    return [Finding(store.dir / ASTERISK_DIR / name, 1,
                    f"{name} is no file the hotline's Asterisk reads — name it like a template "
                    "of asterisk_conf/ to replace it, or extensions_<name>.conf to add to the "
                    "dialplan")
            for name in asterisk_overrides(store.dir)
            if name not in templates and not name.startswith("extensions_")]


def _refused(findings: list[Finding], diff: str = "") -> ApplyResult:
    return ApplyResult("refused", f"{len(findings)} problem(s) found; nothing was changed",
                       diff, findings=sorted(findings, key=lambda f: (str(f.file), f.line)))


async def roll_back(store: ConfStore, asterisk: AsteriskSide | None, to: int | None, *,
                    by: str) -> ApplyResult:
    """Bring version `to` (by default the one before the live one) back, as a new
    version, with the same verification; the working copy becomes it too."""
    versions = await asyncio.to_thread(store.versions)
    live = await asyncio.to_thread(store.live_version)
    if to is None:
        earlier = [v.number for v in versions
                   if v.number < live and not v.outcome.startswith("refused")]
        if not earlier:
            return ApplyResult("refused", f"version {live} is the first: nothing to roll back to")
        to = earlier[-1]
    if to not in {v.number for v in versions}:
        return ApplyResult("refused", f"no version {to} (hotline conf history lists them)")
    if to == live:
        return ApplyResult("unchanged", f"version {to} is live already")
    diff = await asyncio.to_thread(store.diff, to)
    version = await asyncio.to_thread(
        lambda: store.snapshot(by, f"rollback to version {to}", "ok",
                               source=store.version_dir(to), rolled_back_to=to))
    result = await _go_live(store, asterisk, version.number, live, diff)
    if result.outcome == "applied":
        await asyncio.to_thread(store.restore_working_copy, to)
        result.message = f"version {to} is live again (as version {version.number})"
    return result


async def _go_live(store: ConfStore, asterisk: AsteriskSide | None, version: int,
                   previous: int, diff: str) -> ApplyResult:
    await asyncio.to_thread(store.point_live, version)
    if asterisk is not None:
        problems = await asterisk.put(await asyncio.to_thread(
            asterisk_overrides, store.version_dir(version)))
        if problems:
            return await _put_back(store, asterisk, version, previous, diff,
                                   "Asterisk did not take it: " + "; ".join(problems))
    running = await asyncio.to_thread(read_running, store.dir)
    if running is None or not running.alive:
        await asyncio.to_thread(store.mark, version, "applied")
        return ApplyResult("not_running", f"version {version} is live; the hotline is not "
                                          "running and takes it when it starts", diff, version)
    deadline = time.monotonic() + VERIFY_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        running = await asyncio.to_thread(read_running, store.dir)
        if running is None:
            continue
        if running.version == version:
            await asyncio.to_thread(store.mark, version, "live")
            return ApplyResult("applied", f"version {version} is live", diff, version)
        if running.refused == version:
            return await _put_back(store, asterisk, version, previous, diff,
                                   f"the hotline refused it: {running.problem}")
    return await _put_back(store, asterisk, version, previous, diff,
                           f"the hotline did not take it within {VERIFY_SECONDS:g} s")


async def _put_back(store: ConfStore, asterisk: AsteriskSide | None, version: int,
                    previous: int, diff: str, why: str) -> ApplyResult:
    await asyncio.to_thread(store.point_live, previous)
    if asterisk is not None:  # the files and the reload of the version that was live
        problems = await asterisk.put(await asyncio.to_thread(
            asterisk_overrides, store.version_dir(previous)))
        if problems:
            why += "; and putting the previous files back: " + "; ".join(problems)
    await asyncio.to_thread(store.mark, version, f"refused: {why}")
    return ApplyResult("rolled_back", f"version {version} rolled back, version {previous} "
                                      f"is live again: {why}", diff, version)
