"""The prompt catalogue and the build that turns it into telephone audio Asterisk can play."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import ConfigurationError
from store.files import write_atomically

log = logging.getLogger(__name__)

CATALOG_FILE = Path(__file__).with_name("prompt_catalog.toml")
RECORDING_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".gsm")
MANIFEST = "manifest.json"


# Asterisk's own Mandarin sounds live under a language directory it searches itself.
ASTERISK_ZH = "zh/"


def load_catalog(path: Path = CATALOG_FILE) -> dict[str, str]:
    """Prompt id → text; ids of Asterisk's own sounds are prefixed with 'zh/'."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    catalog = {}
    for section, prefix in (("prompts", ""), ("asterisk_zh", ASTERISK_ZH)):
        entries = data.get(section, {})
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise ConfigurationError(f"{path}: [{section}] must map ids to text")
        catalog.update({prefix + key: text for key, text in entries.items()})
    return catalog


@dataclass(frozen=True)
class PromptSource:
    """Where one prompt's audio comes from: an admin's recording wins over synthesis."""

    prompt_id: str
    text: str
    recording: Path | None

    def fingerprint(self) -> str:
        if self.recording is not None:
            stat = self.recording.stat()
            key = f"rec:{self.recording}:{stat.st_size}:{stat.st_mtime_ns}"
        else:
            key = f"tts:cmn:{self.text}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]


def recorded_ids(recorded_dir: Path) -> set[str]:
    """The prompt ids an admin has a recording of (blocking: a directory listing)."""
    if not recorded_dir.is_dir():
        return set()
    return {p.stem for p in recorded_dir.iterdir() if p.suffix in RECORDING_SUFFIXES}


def prompt_sources(catalog: dict[str, str], recorded_dir: Path) -> list[PromptSource]:
    """Every prompt of the catalog, and every recording of a prompt it has no text for
    (a menu may play a recording alone)."""
    sources = []
    for prompt_id in sorted(recorded_ids(recorded_dir) - set(catalog)):
        catalog = {**catalog, prompt_id: ""}
    for prompt_id, text in catalog.items():
        recording = next(
            (recorded_dir / f"{prompt_id}{suffix}" for suffix in RECORDING_SUFFIXES
             if (recorded_dir / f"{prompt_id}{suffix}").is_file()),
            None,
        )
        sources.append(PromptSource(prompt_id, text, recording))
    return sources


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise ConfigurationError(f"{argv[0]} failed: {err.decode(errors='replace').strip()}")


async def _render(source: PromptSource, target: Path) -> None:
    tmp = target.with_suffix(".tmp.wav")
    if source.recording is not None:
        await _run("sox", str(source.recording), "-r", "8000", "-c", "1", "-b", "16", str(tmp))
    else:
        raw = target.with_suffix(".raw.wav")
        await _run("espeak-ng", "-v", "cmn", "-s", "190", "-w", str(raw), source.text)
        # Trim espeak's leading and trailing silence: dead air makes callers think the line dropped.
        await _run("sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(tmp),
                   "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%",
                   "reverse", "norm", "-3", "pad", "0", "0.15")
        raw.unlink()
    tmp.replace(target)


async def build_prompts(sounds_dir: Path, recorded_dir: Path,
                        catalog: dict[str, str] | None = None) -> int:
    """Render every prompt whose source changed since the last build; returns how many."""
    sounds_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = sounds_dir / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    stale = [
        s for s in prompt_sources(catalog or load_catalog(), recorded_dir)
        if manifest.get(s.prompt_id) != s.fingerprint()
        or not (sounds_dir / f"{s.prompt_id}.wav").exists()
    ]
    limit = asyncio.Semaphore(4)

    async def render_one(source: PromptSource) -> None:
        async with limit:
            target = sounds_dir / f"{source.prompt_id}.wav"
            target.parent.mkdir(parents=True, exist_ok=True)
            await _render(source, target)
            manifest[source.prompt_id] = source.fingerprint()

    await asyncio.gather(*(render_one(s) for s in stale))
    await _build_hold_music(sounds_dir / "moh")
    await _build_beep(sounds_dir / "zh" / "beep.wav")
    write_atomically(manifest_path, json.dumps(manifest, indent=1, sort_keys=True))
    if stale:
        log.info("built %d prompts into %s", len(stale), sounds_dir)
    return len(stale)


async def _build_hold_music(moh_dir: Path) -> None:
    """A soft two-note chime every few seconds: callers on hold hear that the line is alive."""
    target = moh_dir / "hold.wav"
    if target.exists():
        return
    moh_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.wav")  # a build killed half-way leaves no short file
    await _run("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(tmp),
               "synth", "0.5", "sine", "659", "synth", "0.5", "sine", "523",
               "fade", "0.05", "0.5", "0.2", "vol", "0.25", "pad", "0", "3")
    tmp.replace(target)


async def _build_beep(target: Path) -> None:
    """Record() starts with 'beep'; a zh channel finds sounds only under sounds/zh."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.wav")
    await _run("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(tmp),
               "synth", "0.25", "sine", "1000", "vol", "0.4")
    tmp.replace(target)
