"""Owns one Asterisk instance: find the binary, start it, wait until booted, command it, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import signal
from dataclasses import dataclass
from pathlib import Path

from ivr.asterisk_config import AsteriskLayout
from ivr.errors import AsteriskError

log = logging.getLogger(__name__)

DEFAULT_CHROOT = Path("/opt/hotline-asterisk-22")


@dataclass(frozen=True)
class AsteriskInstall:
    """How to execute the installed Asterisk and where its modules and data live."""

    command: tuple[str, ...]
    modules_dir: Path
    data_dir: Path
    sbin_dir: Path

    @classmethod
    def locate(cls) -> AsteriskInstall:
        root = Path(os.environ.get("HOTLINE_ASTERISK_ROOT", str(DEFAULT_CHROOT)))
        triplet = f"{platform.machine()}-linux-gnu"
        if (root / "usr/sbin/asterisk").exists():
            loaders = sorted(root.glob("lib*/ld-linux*.so.*"))
            if not loaders:
                raise AsteriskError(f"{root} holds Asterisk but no dynamic loader")
            # sid's Asterisk needs sid's libc: run it through the chroot's own loader and
            # libraries, on the host's file system, so paths (recordings, prompts, sockets)
            # are the same for Asterisk and for us — no chroot, no bind mounts to clean up.
            libs = f"{root}/lib/{triplet}:{root}/usr/lib/{triplet}"
            return cls(
                command=(str(loaders[0]), "--library-path", libs, str(root / "usr/sbin/asterisk")),
                modules_dir=root / f"usr/lib/{triplet}/asterisk/modules",
                data_dir=root / "usr/share/asterisk",
                sbin_dir=root / "usr/sbin",
            )
        if Path("/usr/sbin/asterisk").exists():  # the bullseye fallback, on the host
            return cls(
                command=("/usr/sbin/asterisk",),
                modules_dir=Path(f"/usr/lib/{triplet}/asterisk/modules"),
                data_dir=Path("/usr/share/asterisk"),
                sbin_dir=Path("/usr/sbin"),
            )
        raise AsteriskError(
            "Asterisk is not installed: run `make run` or scripts/install-system.sh as root"
        )


class AsteriskProcess:
    def __init__(self, install: AsteriskInstall, layout: AsteriskLayout) -> None:
        self._install = install
        self._layout = layout
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self, boot_timeout: float = 30.0) -> None:
        await self._stop_stale_instance()
        self._layout.log_dir.mkdir(parents=True, exist_ok=True)
        console_log = self._layout.log_dir / "console.log"
        with console_log.open("ab") as out:
            self._process = await asyncio.create_subprocess_exec(
                *self._install.command, "-f", "-n", "-C", str(self._layout.config_file),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True,  # Ctrl-C reaches us; we stop Asterisk in order
            )
        log.info("asterisk started, pid %s", self._process.pid)
        await self.wait_fully_booted(boot_timeout)

    async def wait_fully_booted(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._process is not None and self._process.returncode is not None:
                raise AsteriskError(
                    f"asterisk exited with {self._process.returncode} while booting; "
                    f"see {self._layout.log_dir / 'console.log'}"
                )
            with contextlib.suppress(AsteriskError):
                await self.rx("core waitfullybooted", timeout=max(1.0, deadline - loop.time()))
                return
            if loop.time() > deadline:
                raise AsteriskError(f"asterisk did not finish booting within {timeout:.0f}s")
            await asyncio.sleep(0.1)

    async def rx(self, command: str, timeout: float = 10.0) -> str:
        """Run one CLI command over the control socket and return its output."""
        proc = await asyncio.create_subprocess_exec(
            *self._install.command, "-C", str(self._layout.config_file), "-rx", command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AsteriskError(f"asterisk -rx {command!r} timed out") from None
        text = out.decode("utf-8", "replace")
        refused = ("Unable to connect to remote asterisk", "No such command")
        if proc.returncode != 0 or any(marker in text for marker in refused):
            raise AsteriskError(f"asterisk -rx {command!r} failed: {text.strip()[:200]}")
        return text

    async def stop(self, timeout: float = 15.0) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(AsteriskError):
            await self.rx("core stop now", timeout=5)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            log.warning("asterisk did not stop in %.0fs; killing pid %s", timeout, process.pid)
            process.kill()
            await process.wait()
        log.info("asterisk stopped")

    async def wait(self) -> int:
        if self._process is None:
            raise AsteriskError("asterisk was never started")
        return await self._process.wait()

    async def _stop_stale_instance(self) -> None:
        """An Asterisk left behind by a killed service would hold our ports: stop it first."""
        pid_file = self._layout.pid_file
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if not _is_asterisk(pid):
            return
        log.warning("stopping a stale asterisk (pid %s) from an earlier run", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _is_asterisk(pid):
                return
            await asyncio.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _is_asterisk(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"asterisk" in cmdline
