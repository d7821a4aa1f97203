"""The configuration the running hotline uses: the live version's menu, taken up within a
second of `hotline conf apply` (or a rollback) pointing the live link at another version.

The service notes in $HOTLINE_HOME/conf/.running which version it runs (and its pid), so
that the command that applied a change can verify the hotline took it, and roll back if
it could not. A version the service cannot load leaves the one before it running: a
caller never meets a broken menu.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.conf.store import ConfStore, asterisk_overrides
from ivr.errors import ConfigurationError
from ivr.menu.config import load_tree
from ivr.menu.tree import MenuTree
from store.files import write_atomically

log = logging.getLogger(__name__)

RUNNING = ".running"
WATCH_SECONDS = 1.0


@dataclass(frozen=True)
class Running:
    """What conf/.running says: the version a service runs, or why it refused one."""

    version: int
    pid: int
    refused: int | None = None  # the last version it could not load
    problem: str | None = None
    # What taking the version did beyond the menu, for the admin (units and seats synced)
    note: str | None = None

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True


def read_running(conf_dir: Path) -> Running | None:
    try:
        return Running(**json.loads((conf_dir / RUNNING).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


class LiveConf:
    def __init__(self, store: ConfStore,
                 on_menu: Callable[[MenuTree], None] | None = None,
                 on_version: Callable[[Path], Awaitable[str]] | None = None) -> None:
        """on_version: what else a version's files set going (the units and seats it
        declares into the database), given its directory once it is taken; its answer
        is noted for the command that applied it."""
        self._store = store
        self._on_menu = on_menu
        self._on_version = on_version
        self._note_text: str | None = None
        self.version = 0
        self._menu: MenuTree | None = None
        self._watching: asyncio.Task[None] | None = None

    @property
    def menu(self) -> MenuTree:
        if self._menu is None:
            raise RuntimeError("the configuration is not loaded yet")
        return self._menu

    async def counts(self) -> dict[str, Any]:
        """For /metrics: the version running, and the versions applied by outcome."""
        versions = await asyncio.to_thread(self._store.versions)
        applies = {"live": 0, "rolled_back": 0}
        for v in versions[1:]:  # the first is the defaults, made on the first run
            if v.rolled_back_to is None:
                applies["rolled_back" if v.outcome.startswith("refused") else "live"] += 1
        return {"version": self.version, "applies": applies,
                "rollbacks": sum(1 for v in versions if v.rolled_back_to is not None)}

    def asterisk_overrides(self) -> dict[str, str]:
        """The live version's own Asterisk files (blocking: reads them)."""
        return asterisk_overrides(self._store.version_dir(self.version))

    async def start(self) -> None:
        """Load the live version (made from the defaults on a first run); a broken live
        version stops the start with ConfigurationError naming the file."""
        await asyncio.to_thread(self._store.ensure)
        version = await asyncio.to_thread(self._store.live_version)
        self._take(version, await asyncio.to_thread(self._read, version))
        await self._set_going(version)
        await asyncio.to_thread(self._note)
        self._watching = asyncio.create_task(self._watch(), name="conf-watch")

    async def stop(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                version = await asyncio.to_thread(self._store.live_version)
                if version != self.version:
                    await self._switch(version)
            except OSError as exc:  # the link mid-swap, a full disk: look again soon
                log.warning("configuration: cannot read the live version: %s", exc)

    async def _switch(self, version: int) -> None:
        try:
            tree = await asyncio.to_thread(self._read, version)
        except ConfigurationError as exc:
            log.error("configuration version %d refused, version %d stays live: %s",
                      version, self.version, exc)
            await asyncio.to_thread(self._note, version, str(exc))
            return
        self._take(version, tree)
        await self._set_going(version)
        await asyncio.to_thread(self._note)
        log.info("configuration version %d is live (new calls get its menu)", version)

    def _take(self, version: int, tree: MenuTree) -> None:
        self._menu, self.version = tree, version
        if self._on_menu is not None:
            self._on_menu(tree)

    async def _set_going(self, version: int) -> None:
        self._note_text = None
        if self._on_version is None:
            return
        try:
            self._note_text = await self._on_version(self._store.version_dir(version))
        except Exception as exc:  # the menu is live already; say what did not follow
            log.exception("configuration version %d: its units and seats were not synced",
                          version)
            self._note_text = f"单位和坐席未能写入数据库：{exc}"
        else:
            log.info("configuration version %d: %s", version, self._note_text)

    def _read(self, version: int) -> MenuTree:
        return load_tree(self._store.version_dir(version) / "menu.toml")

    def _note(self, refused: int | None = None, problem: str | None = None) -> None:
        running = Running(self.version, os.getpid(), refused, problem, self._note_text)
        write_atomically(self._store.dir / RUNNING, json.dumps(running.__dict__))
