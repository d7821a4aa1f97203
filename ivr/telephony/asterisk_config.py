"""Renders asterisk_conf/ templates into the runtime tree. Pure apart from reading templates."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import ConfigurationError
from ivr.settings import Settings
from store.files import write_atomically

_REPO = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = _REPO / "asterisk_conf"
# The benchmark's own dialplan (bench/ivr_throughput.py), kept out of the production
# templates: render_all adds it only when template_values(bench_dialplan=True) asked for it.
BENCH_TEMPLATE_DIR = _REPO / "bench" / "asterisk_conf"
AMI_USER = "hotline"
ARI_USER = "hotline"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# {{name}} rather than $name: the dialplan is full of ${VARIABLE} of its own.


@dataclass(frozen=True)
class AsteriskLayout:
    """Where one Asterisk instance keeps its files; the binary's own dirs come from the install."""

    root: Path
    modules_dir: Path
    data_dir: Path
    sbin_dir: Path

    @property
    def etc_dir(self) -> Path:
        return self.root / "etc"

    @property
    def config_file(self) -> Path:
        return self.etc_dir / "asterisk.conf"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def lib_dir(self) -> Path:
        return self.root / "lib"

    @property
    def spool_dir(self) -> Path:
        return self.root / "spool"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "asterisk.pid"

    @property
    def runtime_data_dir(self) -> Path:
        """Asterisk's data dir as this instance sees it: the installed one, plus our sounds."""
        return self.root / "data"


def prepare_data_dir(layout: AsteriskLayout, sounds_dir: Path) -> None:
    """Link the installed data (documentation, English sounds…) into the runtime data dir
    and add sounds/zh, the Mandarin sounds Asterisk plays itself (numbers, queue
    announcements) for channels whose language is zh. Nothing is written to the install."""
    target = layout.runtime_data_dir
    (target / "sounds").mkdir(parents=True, exist_ok=True)
    links = {target / entry.name: entry for entry in layout.data_dir.iterdir()
             if entry.name != "sounds"}
    installed_sounds = layout.data_dir / "sounds"
    if installed_sounds.is_dir():
        links.update({target / "sounds" / entry.name: entry
                      for entry in installed_sounds.iterdir() if entry.name != "zh"})
    links[target / "sounds" / "zh"] = sounds_dir / "zh"
    for link, source in links.items():
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        # A new link renamed over the old one: a running Asterisk (adopted after the
        # service restarted) playing a prompt never finds the path missing.
        fresh = link.with_name(f".{link.name}.new")
        fresh.unlink(missing_ok=True)
        fresh.symlink_to(source)
        fresh.replace(link)


def render_template(text: str, values: dict[str, str], name: str = "template") -> str:
    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ConfigurationError(f"{name}: no value for {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(substitute, text)


def template_values(
    settings: Settings, layout: AsteriskLayout, ami_secret: str, *, bench_dialplan: bool = False,
    staffed: bool = True, ari_password: str = "",
) -> dict[str, str]:
    """staffed: the HOTLINE_STAFFED global Asterisk starts with (ivr/schedule/staffing.py keeps it
    current afterwards). bench_dialplan: render_all also renders the benchmark's dialplan
    (`hotline run --bench-dialplan`); it is the one value no template reads."""
    return {
        "etc_dir": str(layout.etc_dir),
        "modules_dir": str(layout.modules_dir),
        "data_dir": str(layout.runtime_data_dir),
        "sbin_dir": str(layout.sbin_dir),
        "lib_dir": str(layout.lib_dir),
        "spool_dir": str(layout.spool_dir),
        "run_dir": str(layout.run_dir),
        "log_dir": str(layout.log_dir),
        "bind": settings.bind,
        "sip_port": str(settings.sip_port),
        "ami_port": str(settings.ami_port),
        "ami_user": AMI_USER,
        "ami_secret": ami_secret,
        "ari_port": str(settings.ari_port),
        "ari_user": ARI_USER,
        "ari_password": ari_password,
        "agi_host": settings.local_host,
        "agi_port": str(settings.agi_port),
        "trunk": settings.trunk,
        "trunk_host": settings.trunk_host,
        "rtp_start": str(settings.rtp_ports[0]),
        "rtp_end": str(settings.rtp_ports[1]),
        "sounds_dir": str(settings.sounds_dir),
        "recordings_dir": str(settings.recordings_dir),
        "queue_name": settings.queue_name,
        "night_queue_name": settings.night_queue_name,
        "queue_ring_seconds": str(settings.queue_ring_seconds),
        "queue_announce_seconds": str(settings.queue_announce_seconds),
        "queue_min_announce_seconds": str(min(15, settings.queue_announce_seconds)),
        "queue_offer_seconds": str(settings.queue_offer_seconds),
        "transfer_ring_seconds": str(int(settings.transfer_ring_seconds)),
        "staffed": "yes" if staffed else "no",
        "ivr_max_seconds": str(int(settings.ivr_max_seconds)),
        "bench_dialplan": "yes" if bench_dialplan else "no",
    }


def render_all(values: dict[str, str], template_dir: Path = TEMPLATE_DIR) -> dict[str, str]:
    """File name → rendered text for every template. With values["bench_dialplan"] = "yes",
    also the benchmark's templates, each #included at the end of extensions.conf; otherwise
    the configuration holds no trace of them."""
    rendered = _render_dir(template_dir, values)
    if values.get("bench_dialplan") == "yes":
        bench = _render_dir(BENCH_TEMPLATE_DIR, values)
        rendered.update(bench)
        rendered["extensions.conf"] += (
            "\n; The benchmark's dialplan (bench/asterisk_conf/), for --bench-dialplan only.\n"
            + "".join(f"#include {name}\n" for name in bench))
    return rendered


def with_overrides(files: dict[str, str], overrides: dict[str, str],
                   values: dict[str, str]) -> dict[str, str]:
    """The rendered files with an admin's own Asterisk files ($HOTLINE_HOME/conf/asterisk/,
    their placeholders filled like the templates'): one named like a template replaces it;
    an extensions_*.conf of their own is #included at the end of the dialplan."""
    result = dict(files)
    added = [name for name in sorted(overrides)
             if name not in files and name.startswith("extensions_")]
    for name, text in overrides.items():
        result[name] = render_template(text, values, name)
    if added:
        result["extensions.conf"] += (
            "\n; The admin's own dialplan ($HOTLINE_HOME/conf/asterisk/).\n"
            + "".join(f"#include {name}\n" for name in added))
    return result


def _render_dir(template_dir: Path, values: dict[str, str]) -> dict[str, str]:
    return {path.name: render_template(path.read_text(encoding="utf-8"), values, path.name)
            for path in sorted(template_dir.glob("*.conf"))}


def changed_files(layout: AsteriskLayout, files: dict[str, str]) -> set[str]:
    """The names whose content a running Asterisk would read differently (the
    staffed-hours global is left out: the service sets it live)."""
    changed = set()
    for name, text in files.items():
        try:
            before = (layout.etc_dir / name).read_text(encoding="utf-8")
        except OSError:
            before = None
        if before is None or _without_live_globals(before) != _without_live_globals(text):
            changed.add(name)
    return changed


def write_config(layout: AsteriskLayout, files: dict[str, str]) -> set[str]:
    """Write the rendered files; returns changed_files() of them."""
    for directory in (layout.etc_dir, layout.run_dir, layout.log_dir, layout.lib_dir,
                      layout.spool_dir, layout.log_dir / "cdr-csv"):
        directory.mkdir(parents=True, exist_ok=True)
    changed = changed_files(layout, files)
    for name, text in files.items():
        target = layout.etc_dir / name
        try:
            before = target.read_text(encoding="utf-8")
        except OSError:
            before = None
        if before != text:
            write_atomically(target, text)  # a reload never reads half a file
    return changed


def _without_live_globals(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith("HOTLINE_STAFFED"))


def ami_secret(settings: Settings) -> str:
    """The AMI secret, generated once per HOTLINE_HOME and kept there (mode 0600)."""
    return kept_secret(settings, "ami_secret")


def ari_password(settings: Settings) -> str:
    """The ARI user's password, like the AMI secret."""
    return kept_secret(settings, "ari_password")


def kept_secret(settings: Settings, name: str) -> str:
    path = settings.secrets_dir / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    settings.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(secret, encoding="utf-8")
    return secret
