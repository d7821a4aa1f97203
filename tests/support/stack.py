"""A running hotline for end-to-end tests: real Asterisk, real service, loopback ports."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.sipp import free_tcp_port, free_udp_port

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).with_name("hotline"))
ADMIN, ADMIN_PASSWORD = "e2e-admin", "e2e-admin-password"


def stack_env(home: Path, **overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "HOTLINE_HOME": str(home),
        "HOTLINE_SIP_PORT": str(free_udp_port()),
        "HOTLINE_AMI_PORT": str(free_tcp_port()),
        "HOTLINE_AGI_PORT": str(free_tcp_port()),
        "HOTLINE_WEB_PORT": str(free_tcp_port()),
        "HOTLINE_ARI_PORT": str(free_tcp_port()),
        "HOTLINE_AUDIOSOCKET_PORT": str(free_tcp_port()),
        "HOTLINE_TRUNK": f"127.0.0.1:{free_udp_port()}",
    }
    env.pop("HOTLINE_DB_URL", None)
    env.update(overrides)
    return env


def wait_healthy(web_port: int, process: subprocess.Popen[bytes] | None, log: Path,
                 timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"hotline exited with {process.returncode}:\n"
                               + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/health",
                                        timeout=2) as r:
                if r.status == 200:
                    return
        except Exception as exc:
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(f"hotline not healthy in {timeout}s ({last}):\n"
                       + log.read_text(errors="replace")[-3000:])


@dataclass
class Stack:
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    token: str = ""
    log: Path = field(default_factory=Path)

    @property
    def home(self) -> Path:
        return Path(self.env["HOTLINE_HOME"])

    def port(self, name: str) -> int:
        return int(self.env[f"HOTLINE_{name.upper()}_PORT"])

    @property
    def sip_port(self) -> int:
        return self.port("sip")

    @property
    def trunk_port(self) -> int:
        return int(self.env["HOTLINE_TRUNK"].rsplit(":", 1)[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port('web')}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HOTLINE, *args], env=self.env, capture_output=True, text=True,
                              timeout=60)

    def start(self) -> None:
        self.log = self.home / "test-run.log"
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([HOTLINE, "run"], env=self.env, cwd=ROOT,
                                            stdout=out, stderr=subprocess.STDOUT)
        wait_healthy(self.port("web"), self.process, self.log)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    async def login(self) -> None:
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.base_url}/api/login",
                json={"user": ADMIN, "password": ADMIN_PASSWORD}) as r:
            assert r.status == 200, await r.text()
            self.token = (await r.json())["token"]

    async def get(self, path: str, **params: str) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession() as http, http.get(
                self.base_url + path, params=params, headers=headers) as r:
            assert r.status == 200, f"{path}: {r.status} {await r.text()}"
            if r.content_type == "application/json":
                return await r.json()
            return await r.read()

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._send("POST", path, body)

    async def put(self, path: str, body: dict[str, Any]) -> Any:
        return await self._send("PUT", path, body)

    async def _send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession() as http, http.request(
                method, self.base_url + path, json=body, headers=headers) as r:
            assert r.status in (200, 201), f"{path}: {r.status} {await r.text()}"
            return await r.json()

    def asterisk_cli(self, command: str) -> str:
        """One Asterisk CLI command on the running instance (`hotline asterisk cli`)."""
        done = self.cli("asterisk", "cli", command)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def asterisk_log(self) -> str:
        return (self.home / "asterisk/log/messages.log").read_text(errors="replace")

    def channel_lines(self, call_id: str) -> list[str]:
        """The Asterisk log lines of this call's citizen channel."""
        log = self.asterisk_log()
        found = re.search(rf'Set\("(PJSIP/[^"]+)", "__HOTLINE_CALL_ID={re.escape(call_id)}"', log)
        if not found:
            return []
        return [line for line in log.splitlines() if found.group(1) in line]

    def prompts_played(self, call_id: str) -> list[str]:
        """Prompt ids Asterisk played on this call's own channel, in order (paths dropped)."""
        return [match.group(1) for line in self.channel_lines(call_id)
                if (match := re.search(r"Playing '(?:[^']*/)?([\w-]+)\.\w+'", line))]

    async def call_of(self, caller: str) -> dict[str, Any] | None:
        items = (await self.get("/api/calls", caller=caller))["items"]
        return items[0] if items else None


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20,
                     what: str = "condition") -> Any:
    """Poll until check() returns something truthy; fail after timeout with the last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    value = None
    while asyncio.get_running_loop().time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what} not reached in {timeout}s; last: {value!r}")


async def seat_on_duty(hotline: Any, seat: str = "1999") -> None:
    """An in-process hotline with a seat logged into the queue whose phone is not registered:
    callers wait in the queue, as when every operator is busy (with no seat logged in at
    all they would go to the message path)."""
    await hotline.seats.add(seat, "busy-seat-pass")
    await hotline.seats.set_state(seat, paused=False)


async def login_token(stack: Stack, user: str, password: str) -> str:
    async with aiohttp.ClientSession() as http, http.post(
            f"{stack.base_url}/api/login", json={"user": user, "password": password}) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])
