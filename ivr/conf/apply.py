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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

from ivr.conf.check import Finding, check_menu
from ivr.conf.directory import read_seats, read_units
from ivr.conf.live import read_running
from ivr.conf.store import ASTERISK_DIR, ConfStore, asterisk_overrides, summary_of
from ivr.menu.checks import KnownWorld
from ivr.menu.prompts import build_prompts
from ivr.menu.tree import MenuTree
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
    """ConfBusy while another apply or rollback runs."""
    with store.exclusive():
        return await _apply(store, world, prompts, asterisk, by=by, confirm=confirm,
                            dry_run=dry_run)


async def _apply(store: ConfStore, world: KnownWorld, prompts: Prompts,
                 asterisk: AsteriskSide | None, *, by: str, confirm: Confirm,
                 dry_run: bool) -> ApplyResult:
    await asyncio.to_thread(store.ensure)
    tree, findings = await asyncio.to_thread(check_working_copy, store, world)
    if tree is None or findings:  # (no tree: the menu's own findings; else the file names')
        return _refused(findings)
    diff = await asyncio.to_thread(store.diff)
    if not diff:
        return ApplyResult("unchanged", "编辑中的配置与线上一致，没有需要应用的修改")
    if asterisk is not None:  # the staged Asterisk files, loaded by a scratch Asterisk
        findings = await asterisk.check(await asyncio.to_thread(asterisk_overrides, store.dir))
        if findings:
            return _refused(findings, diff)
    if dry_run:
        return ApplyResult("dry_run", "试运行：检查通过，未作任何改动", diff)
    if not await confirm(diff):
        return ApplyResult("declined", "未应用", diff)
    # The new menu's own prompts exist before any call can reach them (the catalog's
    # are built when the hotline starts).
    if tree.prompt_texts:
        await build_prompts(prompts.sounds_dir, prompts.recorded_dir, dict(tree.prompt_texts))
    previous = await asyncio.to_thread(store.live_version)
    version = await asyncio.to_thread(store.snapshot, by, summary_of(diff), "ok")
    return await _go_live(store, asterisk, version.number, previous, diff)


def check_working_copy(store: ConfStore,
                       world: KnownWorld) -> tuple[MenuTree | None, list[Finding]]:
    """The menu's tree (None when it cannot run) and every finding of the files checked
    without Asterisk: the units and seats declared, the menu (whose unit keys may name a
    unit the same change declares), the Asterisk files' names. Blocking."""
    units, findings = read_units(store.working_file("units.toml"))
    _seats, seat_findings = read_seats(store.working_file("seats.toml"))
    declared = {u.code: bool(u.phone or u.duty_phone) for u in units}
    if world.units is not None:  # (None: the units are not known here, not checked)
        world = replace(world, units={**world.units, **declared})
    tree, menu_findings = check_menu(store.working_file("menu.toml"), world)
    findings = [*findings, *seat_findings, *menu_findings, *check_override_names(store)]
    return tree, sorted(findings, key=lambda f: (str(f.file), f.line))


def check_override_names(store: ConfStore) -> list[Finding]:
    """An Asterisk file of the admin's must replace a template or add to the dialplan."""
    templates = {p.name for p in TEMPLATE_DIR.glob("*.conf")}
    return [Finding(store.dir / ASTERISK_DIR / name, 1,
                    f"{name} 不是热线的 Asterisk 会读取的文件 — 请用 asterisk_conf/ 中某个模板的"
                    "文件名来替换该模板，或命名为 extensions_<名称>.conf 加入拨号方案")
            for name in asterisk_overrides(store.dir)
            if name not in templates and not name.startswith("extensions_")]


def _refused(findings: list[Finding], diff: str = "") -> ApplyResult:
    return ApplyResult("refused", f"发现 {len(findings)} 个问题，未作任何改动",
                       diff, findings=sorted(findings, key=lambda f: (str(f.file), f.line)))


async def roll_back(store: ConfStore, asterisk: AsteriskSide | None, to: int | None, *,
                    by: str) -> ApplyResult:
    """Bring version `to` (by default the one before the live one) back, as a new
    version, with the same verification; the working copy becomes it too. ConfBusy
    while another apply or rollback runs."""
    with store.exclusive():
        return await _roll_back(store, asterisk, to, by=by)


async def _roll_back(store: ConfStore, asterisk: AsteriskSide | None, to: int | None, *,
                     by: str) -> ApplyResult:
    versions = await asyncio.to_thread(store.versions)
    live = await asyncio.to_thread(store.live_version)
    if to is None:
        earlier = [v.number for v in versions
                   if v.number < live and not v.outcome.startswith("refused")]
        if not earlier:
            return ApplyResult("refused", f"第 {live} 版是最早的版本，没有可回滚的版本")
        to = earlier[-1]
    if to not in {v.number for v in versions}:
        return ApplyResult("refused", f"没有第 {to} 版（hotline conf history 列出所有版本）")
    if to == live:
        return ApplyResult("unchanged", f"第 {to} 版已经在线上")
    diff = await asyncio.to_thread(store.diff, to)
    version = await asyncio.to_thread(
        lambda: store.snapshot(by, f"rollback to version {to}", "ok",
                               source=store.version_dir(to), rolled_back_to=to))
    result = await _go_live(store, asterisk, version.number, live, diff)
    if result.outcome in ("applied", "not_running"):
        await asyncio.to_thread(store.restore_working_copy, to)
    if result.outcome == "applied":
        result.message = f"第 {to} 版已重新生效（作为第 {version.number} 版）"
    return result


async def _go_live(store: ConfStore, asterisk: AsteriskSide | None, version: int,
                   previous: int, diff: str) -> ApplyResult:
    await asyncio.to_thread(store.point_live, version)
    if asterisk is not None:
        problems = await asterisk.put(await asyncio.to_thread(
            asterisk_overrides, store.version_dir(version)))
        if problems:
            return await _put_back(store, asterisk, version, previous, diff,
                                   "Asterisk 没有接受它：" + "；".join(problems))
    running = await asyncio.to_thread(read_running, store.dir)
    if running is None or not running.alive:
        await asyncio.to_thread(store.mark, version, "applied")
        return ApplyResult("not_running", f"第 {version} 版已设为线上版本；热线当前未运行，"
                                          "启动时生效", diff, version)
    deadline = time.monotonic() + VERIFY_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        running = await asyncio.to_thread(read_running, store.dir)
        if running is None:
            continue
        if running.version == version:
            await asyncio.to_thread(store.mark, version, "live")
            note = f"；{running.note}" if running.note else ""
            return ApplyResult("applied", f"第 {version} 版已生效{note}", diff, version)
        if running.refused == version:
            return await _put_back(store, asterisk, version, previous, diff,
                                   f"热线服务拒绝了它：{running.problem}")
    return await _put_back(store, asterisk, version, previous, diff,
                           f"热线服务 {VERIFY_SECONDS:g} 秒内没有采用它")


async def _put_back(store: ConfStore, asterisk: AsteriskSide | None, version: int,
                    previous: int, diff: str, why: str) -> ApplyResult:
    await asyncio.to_thread(store.point_live, previous)
    if asterisk is not None:  # the files and the reload of the version that was live
        problems = await asterisk.put(await asyncio.to_thread(
            asterisk_overrides, store.version_dir(previous)))
        if problems:
            why += "；恢复上一版文件时：" + "；".join(problems)
    await asyncio.to_thread(store.mark, version, f"refused: {why}")
    return ApplyResult("rolled_back", f"第 {version} 版已回退，第 {previous} 版重新生效："
                                      f"{why}", diff, version)
