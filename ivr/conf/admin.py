"""The configuration as the admin page and the `hotline conf` commands see it: the check's
findings, the change waiting to be applied, the history, the menu's picture; apply and
rollback. One place builds what the names must match (the world), for both."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from typing import Any, Literal

from ivr.conf.apply import (
    ApplyResult,
    AsteriskSide,
    Prompts,
    apply_working_copy,
    check_working_copy,
    roll_back,
)
from ivr.conf.check import Finding, known_world
from ivr.conf.diagram import menu_svg
from ivr.conf.store import ConfStore, asterisk_overrides
from ivr.menu.checks import KnownWorld
from ivr.menu.config import read_tree
from ivr.menu.prompts import load_catalog
from ivr.settings import Settings
from tickets.service import TicketService

log = logging.getLogger(__name__)

UnitNumbers = Callable[[], Awaitable[Mapping[str, bool]]]  # unit code → has a number
MissingWords = Callable[[list[str]], list[str]]


async def unit_numbers(tickets: TicketService) -> dict[str, bool]:
    """Unit code → whether it has a number to call: what the menu's unit keys must match."""
    return {u["code"]: bool(u["phone"] or u["duty_phone"]) for u in await tickets.units()}


async def world_for(settings: Settings, units: UnitNumbers,
                    missing_words: MissingWords | None) -> KnownWorld:
    return await asyncio.to_thread(known_world, settings.recorded_prompts_dir,
                                   {settings.queue_name}, await units(), missing_words)


async def model_words(settings: Settings) -> MissingWords | None:
    """The configured speech model's lexicon check, loaded for a command (the service
    has its model loaded already); None without a model, or when it does not load."""
    if settings.vosk_model is None:
        return None
    from recognizer.model import ModelError, load_model
    try:
        return (await asyncio.to_thread(load_model, settings.vosk_model)).missing_words
    except ModelError as exc:
        print(f"hotline: 未检查说法：{exc}", file=sys.stderr)
        return None


async def all_findings(settings: Settings, store: ConfStore, world: KnownWorld,
                       asterisk: AsteriskSide | None) -> list[Finding]:
    """Every finding of the working copy, in file and line order; its Asterisk files
    are loaded by a scratch Asterisk when it has any."""
    await asyncio.to_thread(store.ensure)
    _tree, findings = await asyncio.to_thread(check_working_copy, store, world)
    overrides = await asyncio.to_thread(asterisk_overrides, store.dir)
    if overrides and asterisk is not None:
        findings += await asterisk.check(overrides)
    return sorted(findings, key=lambda f: (str(f.file), f.line))


class ConfAdmin:
    """For the admin page, inside the service: the same steps as the commands."""

    def __init__(self, settings: Settings, units: UnitNumbers,
                 missing_words: Callable[[], MissingWords | None],
                 asterisk: AsteriskSide | None) -> None:
        self._settings = settings
        self._store = ConfStore(settings.conf_dir)
        self._units = units
        self._missing_words = missing_words
        self._asterisk = asterisk

    async def _world(self) -> KnownWorld:
        return await world_for(self._settings, self._units, self._missing_words())

    async def state(self) -> dict[str, Any]:
        store = self._store
        findings = await all_findings(self._settings, store, await self._world(),
                                      self._asterisk)
        return {"live_version": await asyncio.to_thread(store.live_version),
                "findings": [{"file": str(f.file), "line": f.line, "message": f.message}
                             for f in findings],
                "diff": await asyncio.to_thread(store.diff),
                "history": [asdict(v) for v in await asyncio.to_thread(store.versions)]}

    async def picture(self, which: Literal["working", "live"]) -> str | None:
        """The menu's SVG; None when that menu is too broken to draw."""
        path = (self._store.working_file("menu.toml") if which == "working"
                else self._store.live_file("menu.toml"))
        tree, _problems, _line = await asyncio.to_thread(read_tree, path)
        if tree is None:
            return None
        catalog = await asyncio.to_thread(load_catalog)
        return await asyncio.to_thread(menu_svg, tree, {**catalog, **tree.prompt_texts})

    async def apply(self, by: str, *, dry_run: bool = False) -> ApplyResult:
        async def shown_on_the_page(_diff: str) -> bool:
            return True  # the admin saw this diff on the page and pressed 应用

        result = await apply_working_copy(
            self._store, await self._world(),
            Prompts(self._settings.sounds_dir, self._settings.recorded_prompts_dir),
            self._asterisk, by=by, confirm=shown_on_the_page, dry_run=dry_run)
        log.info("configuration apply by %s from the admin page: %s (%s)", by,
                 result.outcome, result.message)
        return result

    async def rollback(self, by: str, version: int | None) -> ApplyResult:
        result = await roll_back(self._store, self._asterisk, version, by=by)
        log.info("configuration rollback by %s from the admin page: %s (%s)", by,
                 result.outcome, result.message)
        return result
