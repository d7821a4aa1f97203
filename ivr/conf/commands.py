"""`hotline conf check | apply | history | rollback`: the admin's configuration from the
command line (ivr/cli.py wires them; the units come from the database through it)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable

from ivr.conf.admin import UnitNumbers, all_findings, model_words, world_for
from ivr.conf.apply import ApplyResult, Prompts, apply_working_copy, roll_back
from ivr.conf.asterisk_live import AsteriskSide
from ivr.conf.store import ConfStore
from ivr.menu.checks import KnownWorld
from ivr.settings import Settings


async def _world(settings: Settings, units: UnitNumbers) -> KnownWorld:
    return await world_for(settings, units, await model_words(settings))


def check(settings: Settings, units: UnitNumbers) -> int:
    async def run() -> int:
        findings = await all_findings(settings, ConfStore(settings.conf_dir),
                                      await _world(settings, units), AsteriskSide(settings))
        for finding in findings:
            print(finding)
        if not findings:
            print(f"{settings.conf_dir}：没有发现问题")
        return 1 if findings else 0

    return asyncio.run(run())


def apply(settings: Settings, units: UnitNumbers, *, yes: bool, dry_run: bool) -> int:
    async def confirm(diff: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            print("hotline: 未应用：请在终端上确认，或加 --yes", file=sys.stderr)
            return False
        answer = await asyncio.to_thread(input, "应用这些修改？[y/N] ")
        return answer.strip().lower() in ("y", "yes")

    async def run() -> ApplyResult:
        world = await _world(settings, units)
        return await apply_working_copy(
            ConfStore(settings.conf_dir), world,
            Prompts(settings.sounds_dir, settings.recorded_prompts_dir),
            AsteriskSide(settings), by=_who(), confirm=_showing_diff(confirm),
            dry_run=dry_run)

    return _report(asyncio.run(run()), show_diff=dry_run)


def rollback(settings: Settings, to: int | None) -> int:
    return _report(asyncio.run(roll_back(ConfStore(settings.conf_dir), AsteriskSide(settings),
                                         to, by=_who())), show_diff=True)


def history(settings: Settings) -> int:
    store = ConfStore(settings.conf_dir)
    store.ensure()
    live = store.live_version()
    for v in store.versions():
        mark = "*" if v.number == live else " "
        print(f"{mark} {v.number:4d}  {v.at}  {v.by:<12} {v.outcome:<8} {v.summary}")
    return 0


def _showing_diff(confirm: Callable[[str], Awaitable[bool]]
                  ) -> Callable[[str], Awaitable[bool]]:
    async def shown(diff: str) -> bool:
        print(diff, end="" if diff.endswith("\n") else "\n")
        return await confirm(diff)

    return shown


def _report(result: ApplyResult, *, show_diff: bool) -> int:
    for finding in result.findings:
        print(finding)
    if show_diff and result.diff:
        print(result.diff, end="")
    print(result.message, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
