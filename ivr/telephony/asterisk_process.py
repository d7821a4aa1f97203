"""Owns one Asterisk instance: find the binary, start it, wait until booted, command it, stop it.

If the service died (SIGKILL, out of memory) its Asterisk runs on without it, with the
callers in the queue still waiting. The next start adopts that instance (found by its pid
file, checked to be this home's) instead of killing it, as long as its configuration is
the one the service would write; `hotline down` stops it whatever became of the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import signal
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import AsteriskError
from ivr.telephony.asterisk_config import AsteriskLayout

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class AsteriskInstall:
    """How to execute the installed Asterisk and where its modules and data live."""

    command: tuple[str, ...]
    modules_dir: Path
    data_dir: Path
    sbin_dir: Path

    @classmethod
    def locate(cls, root: Path) -> AsteriskInstall:
        """root: the chroot Asterisk was unpacked into (Settings.asterisk_root)."""
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


    def layout(self, root: Path) -> AsteriskLayout:
        """The files of the instance that lives under root, run by this install."""
        return AsteriskLayout(root, self.modules_dir, self.data_dir, self.sbin_dir)


class AsteriskProcess:
    def __init__(self, install: AsteriskInstall, layout: AsteriskLayout) -> None:
        self._install = install
        self._layout = layout
        self._process: asyncio.subprocess.Process | None = None
        self._adopted: int | None = None  # the pid of an instance an earlier run started
        self._adopted_exit: asyncio.Task[None] | None = None  # done when it has exited

    @property
    def pid(self) -> int | None:
        if self._process is not None:
            return self._process.pid
        return self._adopted

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.returncode is None
        return self._adopted_exit is not None and not self._adopted_exit.done()

    async def start(self, boot_timeout: float = 30.0, *, adopt: bool = False) -> None:
        """Start Asterisk and wait until it has booted. adopt: keep an instance an earlier
        run of the service left running (its calls go on) instead of stopping it."""
        self._process = self._adopted = self._adopted_exit = None
        if adopt and (pid := running_instance(self._layout)) is not None:
            log.warning("adopting the asterisk (pid %s) an earlier run left running", pid)
            self._adopted = pid
            self._adopted_exit = asyncio.create_task(_exited(pid), name="asterisk-adopted")
            await self.wait_fully_booted(boot_timeout)
            return
        await stop_instance(self._layout)
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
            if not self.is_running():
                raise AsteriskError(
                    f"asterisk exited while booting; see {self._layout.log_dir / 'console.log'}")
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
        if process is None:
            if self._adopted is not None and self.is_running():
                with contextlib.suppress(AsteriskError):
                    await self.rx("core stop now", timeout=5)
                await stop_instance(self._layout, grace=timeout)
                log.info("asterisk stopped")
            return
        if process.returncode is not None:
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

    async def wait(self) -> int | None:
        """Until Asterisk exits: its exit status, or None for an adopted instance (not our
        child, so its status goes to whoever adopted the orphan)."""
        if self._process is not None:
            return await self._process.wait()
        if self._adopted_exit is None:
            raise AsteriskError("asterisk was never started")
        await asyncio.shield(self._adopted_exit)
        return None


def running_instance(layout: AsteriskLayout) -> int | None:
    """The pid of the Asterisk running on this layout's configuration, if one is."""
    try:
        pid = int(layout.pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if not any(arg.endswith(b"asterisk") for arg in cmdline):
        return None  # the pid was reused by another program
    return pid if str(layout.config_file).encode() in cmdline else None


async def stop_instance(layout: AsteriskLayout, *, grace: float = 10.0) -> int | None:
    """Stop the Asterisk running on this layout (SIGTERM, then SIGKILL after `grace`
    seconds); returns its pid, or None if none ran. Used for an instance left behind."""
    pid = running_instance(layout)
    if pid is None:
        return None
    log.warning("stopping the asterisk (pid %s) left running by an earlier run", pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(_exited(pid), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        await _exited(pid)
    return pid


async def _exited(pid: int) -> None:
    """Until a process that need not be our child has exited (a pidfd turns readable)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(fd, lambda: done.done() or done.set_result(None))
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)
