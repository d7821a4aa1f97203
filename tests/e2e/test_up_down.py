"""`make up` / `make down`: background start that waits for health, stop by pid."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.support.stack import HOTLINE, stack_env


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(
        f"/proc/{pid}/status").read_text().lower()


def hotline(env, *args):
    return subprocess.run([HOTLINE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_up_waits_for_health_and_down_stops_everything(tmp_path):
    env = stack_env(tmp_path / "home")
    home = Path(env["HOTLINE_HOME"])
    up = hotline(env, "up", "--timeout", "90")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        pid = int((home / "hotline.pid").read_text())
        asterisk_pid = int((home / "asterisk/run/asterisk.pid").read_text())
        assert alive(pid) and alive(asterisk_pid)
        url = f"http://127.0.0.1:{env['HOTLINE_WEB_PORT']}/api/health"
        with urllib.request.urlopen(url, timeout=5) as r:
            # Speech is not configured here: "off", and still healthy.
            assert json.loads(r.read()) == {"asterisk": "up", "ami": "up", "agi": "up",
                                            "db": "up", "asr": "off"}
        again = hotline(env, "up")
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        down = hotline(env, "down")
    assert down.returncode == 0, down.stderr
    assert not alive(pid), "the service must be gone"
    assert not alive(asterisk_pid), "down must stop the Asterisk that up started"
    assert not (home / "hotline.pid").exists()


def test_up_fails_with_the_reason_when_it_cannot_start(tmp_path):
    env = stack_env(tmp_path / "home")
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", int(env["HOTLINE_WEB_PORT"])))
    blocker.listen()
    try:
        up = hotline(env, "up", "--timeout", "60")
    finally:
        blocker.close()
    assert up.returncode != 0
    assert "address already in use" in up.stdout.lower(), up.stdout
    assert not (Path(env["HOTLINE_HOME"]) / "hotline.pid").exists()


def test_down_stops_the_asterisk_a_killed_service_left_running(tmp_path):
    env = stack_env(tmp_path / "home")
    home = Path(env["HOTLINE_HOME"])
    up = hotline(env, "up", "--timeout", "90")
    assert up.returncode == 0, up.stdout + up.stderr
    pid = int((home / "hotline.pid").read_text())
    asterisk_pid = int((home / "asterisk/run/asterisk.pid").read_text())
    os.kill(pid, 9)  # out of memory, say: nothing of the service runs its shutdown
    for _ in range(50):
        if not alive(pid):
            break
        time.sleep(0.1)
    assert alive(asterisk_pid), "Asterisk outlives its service (its callers stay on)"
    down = hotline(env, "down")
    assert down.returncode == 0, down.stderr
    assert "not running" in down.stdout and f"pid {asterisk_pid}" in down.stdout, down.stdout
    assert not alive(asterisk_pid), "down must stop this home's Asterisk whatever became of " \
                                    "the service"
