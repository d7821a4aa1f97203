"""The admin's configuration on disk: what they edit, every version applied, and which
version is live. Blocking file work: the service calls it from a worker.

    $HOTLINE_HOME/conf/menu.toml          the working copy an admin edits: the menu,
    $HOTLINE_HOME/conf/units.toml         the units and seats declared (ivr/conf/
    $HOTLINE_HOME/conf/seats.toml         directory.py, synced into the database),
    $HOTLINE_HOME/conf/asterisk/*.conf    and Asterisk files of their own (a template's
                                          name replaces it; extensions_*.conf are added
                                          to the dialplan)
    $HOTLINE_HOME/conf/.versions/0003/    each applied version: its files and meta.json
                                          (who, when, what changed, the check's result)
    $HOTLINE_HOME/conf/.live → .versions/0003
                                          what the hotline runs; swapped by renaming a
                                          new link over it, so a reader sees the old
                                          version or the new one, never half of either
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ivr.conf.directory import DEFAULT_SEATS_FILE, DEFAULT_UNITS_FILE
from ivr.errors import HotlineError
from ivr.menu.config import DEFAULT_MENU_FILE
from store.files import write_atomically

# The files an admin starts with, from the repo's defaults.
DEFAULTS = {"menu.toml": DEFAULT_MENU_FILE, "units.toml": DEFAULT_UNITS_FILE,
            "seats.toml": DEFAULT_SEATS_FILE}
ASTERISK_DIR = "asterisk"
META = "meta.json"


class ConfBusy(HotlineError):
    """Another apply or rollback is under way (from the page, or another terminal)."""


@dataclass(frozen=True)
class Version:
    number: int
    by: str
    at: str  # ISO 8601, UTC
    summary: str  # what changed, e.g. "menu.toml: +3 -1"
    check: str  # "ok", or the findings it was applied despite (never, today)
    rolled_back_to: int | None = None  # a rollback: the version it brought back
    # "live" once taken up; "refused: …" when the hotline could not take it and the
    # version before it was put back
    outcome: str = "applied"


class ConfStore:
    def __init__(self, conf_dir: Path) -> None:
        self.dir = conf_dir
        self._versions = conf_dir / ".versions"
        self._live = conf_dir / ".live"

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """One apply or rollback at a time, across processes (the page and the command):
        a second one is refused at once, never queued behind a reload."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfBusy("另一个应用或回滚正在进行 — 请等它结束后再试") from None
            yield
        finally:
            os.close(fd)

    # -- first run ------------------------------------------------------------------------
    def ensure(self) -> None:
        """Copy the repo's defaults for files the admin does not have yet, and make them
        version 1 when nothing was ever applied."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for name, default in DEFAULTS.items():
            if not (self.dir / name).exists():
                shutil.copyfile(default, self.dir / name)
        if not self._live.exists():
            self.snapshot("hotline", "the defaults, on first run", "ok")
            self.point_live(1)

    # -- reading --------------------------------------------------------------------------
    def working_file(self, name: str) -> Path:
        return self.dir / name

    def live_version(self) -> int:
        return int(os.readlink(self._live).rsplit("/", 1)[-1])

    def live_file(self, name: str) -> Path:
        return self._live / name

    def version_dir(self, number: int) -> Path:
        return self._versions / f"{number:04d}"

    def versions(self) -> list[Version]:
        found = []
        for directory in sorted(self._versions.glob("[0-9]*")):
            meta = directory / META
            if meta.is_file():
                found.append(Version(**json.loads(meta.read_text(encoding="utf-8"))))
        return found

    def diff(self, to: int | None = None) -> str:
        """What would change: the live version against the working copy (or against
        version `to`), as a unified diff; '' when nothing would."""
        new = self.version_dir(to) if to is not None else self.dir
        lines: list[str] = []
        for name in sorted(set(files_of(self._live)) | set(files_of(new))):
            lines += difflib.unified_diff(
                _read(self._live / name).splitlines(keepends=True),
                _read(new / name).splitlines(keepends=True),
                f"live/{name}", f"version-{to}/{name}" if to is not None else f"conf/{name}")
        return "".join(lines)

    # -- changing -------------------------------------------------------------------------
    def snapshot(self, by: str, summary: str, check: str, *,
                 source: Path | None = None, rolled_back_to: int | None = None) -> Version:
        """Keep the working copy (or `source`'s files) as the next version."""
        numbers = [v.number for v in self.versions()]
        version = Version((max(numbers) if numbers else 0) + 1, by,
                          time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), summary, check,
                          rolled_back_to)
        target = self.version_dir(version.number)
        staging = target.with_name(f".{target.name}.new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        origin = source or self.dir
        for name in files_of(origin):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin / name, staging / name)
        (staging / META).write_text(json.dumps(asdict(version), ensure_ascii=False, indent=1),
                                    encoding="utf-8")
        staging.rename(target)  # a version is there whole, or not at all
        return version

    def mark(self, number: int, outcome: str) -> None:
        meta = self.version_dir(number) / META
        record = json.loads(meta.read_text(encoding="utf-8"))
        record["outcome"] = outcome
        write_atomically(meta, json.dumps(record, ensure_ascii=False, indent=1))

    def point_live(self, number: int) -> None:
        if not self.version_dir(number).is_dir():
            raise FileNotFoundError(f"no version {number}")
        fresh = self._live.with_name(".live.new")
        fresh.unlink(missing_ok=True)
        fresh.symlink_to(Path(".versions") / f"{number:04d}")
        fresh.replace(self._live)

    def restore_working_copy(self, number: int) -> None:
        """After a rollback the admin edits on from what is live, not from what failed."""
        kept = self.version_dir(number)
        for name in files_of(self.dir):
            if name not in files_of(kept):
                (self.dir / name).unlink()
        for name in files_of(kept):
            write_atomically(self.dir / name, _read(kept / name))


def asterisk_overrides(directory: Path) -> dict[str, str]:
    """A version's (or the working copy's) own Asterisk files: name → text."""
    return {name.split("/", 1)[1]: _read(directory / name) for name in files_of(directory)
            if name.startswith(f"{ASTERISK_DIR}/")}


def files_of(directory: Path) -> list[str]:
    """The configuration files in a working copy or a version: the menu and the admin's
    Asterisk files, as names relative to it (never the hidden bookkeeping)."""
    names = [name for name in DEFAULTS if (directory / name).is_file()]
    asterisk = directory / ASTERISK_DIR
    if asterisk.is_dir():
        names += sorted(f"{ASTERISK_DIR}/{p.name}" for p in asterisk.glob("*.conf")
                        if p.is_file())
    return names


def summary_of(diff: str) -> str:
    """'menu.toml: +3 -1' from a unified diff."""
    counts: dict[str, list[int]] = {}
    name = ""
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:].split("/", 1)[-1]
            counts.setdefault(name, [0, 0])
        elif line.startswith("+") and name:
            counts[name][0] += 1
        elif line.startswith("-") and not line.startswith("---") and name:
            counts[name][1] += 1
    return ", ".join(f"{n}: +{a} -{r}" for n, (a, r) in counts.items()) or "no change"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
