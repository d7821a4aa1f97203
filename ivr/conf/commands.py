"""`hotline conf check | apply | history | rollback`: the admin's configuration from the
command line (ivr/cli.py wires them; the units come from the database through it)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable, Mapping

from ivr.conf.apply import (
    ApplyResult,
    Prompts,
    apply_working_copy,
    check_override_names,
    roll_back,
)
from ivr.conf.asterisk_live import AsteriskSide
from ivr.conf.check import check_menu, known_world
from ivr.conf.store import ConfStore, asterisk_overrides
from ivr.menu.checks import KnownWorld
from ivr.settings import Settings

UnitNumbers = Callable[[], Awaitable[Mapping[str, bool]]]  # unit code → has a number


async def _world(settings: Settings, units: UnitNumbers) -> KnownWorld:
    missing_words = None
    if settings.vosk_model is not None:  # the phrases must be words the model knows
        from recognizer.model import ModelError, load_model
        try:
            model = await asyncio.to_thread(load_model, settings.vosk_model)
            missing_words = model.missing_words
        except ModelError as exc:
            print(f"hotline: phrases not checked: {exc}", file=sys.stderr)
    return await asyncio.to_thread(known_world, settings.recorded_prompts_dir,
                                   {settings.queue_name}, await units(), missing_words)


def check(settings: Settings, units: UnitNumbers) -> int:
    async def run() -> int:
        store = ConfStore(settings.conf_dir)
        await asyncio.to_thread(store.ensure)
        world = await _world(settings, units)
        _tree, findings = await asyncio.to_thread(
            check_menu, store.working_file("menu.toml"), world)
        findings += await asyncio.to_thread(check_override_names, store)
        overrides = await asyncio.to_thread(asterisk_overrides, store.dir)
        if overrides:  # the admin's own Asterisk files: a scratch Asterisk loads them
            findings += await AsteriskSide(settings).check(overrides)
        for finding in sorted(findings, key=lambda f: (str(f.file), f.line)):
            print(finding)
        if not findings:
            print(f"{settings.conf_dir}: no problems found")
        return 1 if findings else 0

    return asyncio.run(run())


def apply(settings: Settings, units: UnitNumbers, *, yes: bool, dry_run: bool) -> int:
    async def confirm(diff: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            print("hotline: not applied: confirm on a terminal, or pass --yes", file=sys.stderr)
            return False
        answer = await asyncio.to_thread(input, "Apply this change? [y/N] ")
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
