"""IVR throughput: the Python FastAGI menu against a pure-dialplan menu of the same shape,
on the same Asterisk, in one run. Writes bench/results/ivr_throughput.json.

For each offered rate, N calls each: answer, key 0 after 1 s (SIP INFO), hear the
operator prompt, reach the queue, hang up. A call succeeds only if SIPp completed it AND
its call record shows it reached the queue (with ivr_path ["operator"] for the Python
menu). Then 200 concurrent calls stay in the Python menu with media flowing; each must
succeed and leave a recording as long as its time in the menu.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.support.sipp import DtmfInfo, Hangup, Pause, free_udp_port, scenario
from tests.support.stack import ADMIN, ADMIN_PASSWORD, Stack, stack_env

RESULTS = Path(__file__).with_name("results")
RATES = [int(r) for r in os.environ.get("BENCH_RATES", "10,20,30,45").split(",")]
CALLS_PER_RATE = int(os.environ.get("BENCH_CALLS", "300"))
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", "200"))
SUCCESS_TARGET = 0.999
CALL_STEPS = [Pause(1000), DtmfInfo("0"), Pause(7000), Hangup()]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class RunResult:
    path: str
    offered_cps: int
    calls: int
    sipp_ok: int
    reached_queue: int
    success_rate: float
    wall_seconds: float
    asterisk_cpu_per_call: float
    service_cpu_per_call: float


async def run_sipp(stack: Stack, service: str, prefix: str, steps, calls: int, rate: float,
                   limit: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        xml = Path(tmp) / "caller.xml"
        xml.write_text(scenario(f"{prefix}[call_number]", steps, service))
        stats = Path(tmp) / "stats.csv"
        argv = ["sipp", f"127.0.0.1:{stack.sip_port}", "-sf", str(xml), "-m", str(calls),
                "-r", str(rate), "-l", str(limit), "-i", "127.0.0.1",
                "-p", str(free_udp_port()), "-cp", str(free_udp_port()),
                "-mi", "127.0.0.1", "-mp", str(free_udp_port() & ~1), "-rtp_echo",
                "-timeout", "300s", "-nostdin", "-max_socket", "2000",
                "-trace_stat", "-stf", str(stats)]
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, cwd=tmp)
        await asyncio.wait_for(proc.wait(), 400)
        wall = time.monotonic() - started
        last = stats.read_text().strip().splitlines()[-1].split(";")
        header = stats.read_text().splitlines()[0].split(";")
        ok = int(last[header.index("SuccessfulCall(C)")])
        return ok, wall


def records(stack: Stack, prefix: str) -> list[tuple[str, str, str | None, str | None]]:
    with sqlite3.connect(stack.home / "hotline.db", timeout=30) as db:
        return db.execute("SELECT caller, ivr_path, queue, recording FROM calls "
                          "WHERE caller LIKE ?", (f"{prefix}%",)).fetchall()


async def settle(stack: Stack, prefix: str, expected: int) -> None:
    """Wait until the service has closed every record of this run (bounded)."""
    for _ in range(120):
        with sqlite3.connect(stack.home / "hotline.db", timeout=30) as db:
            open_calls = db.execute("SELECT count(*) FROM calls WHERE caller LIKE ? AND "
                                    "ended IS NULL", (f"{prefix}%",)).fetchone()[0]
            total = db.execute("SELECT count(*) FROM calls WHERE caller LIKE ?",
                               (f"{prefix}%",)).fetchone()[0]
        if open_calls == 0 and total >= expected:
            return
        await asyncio.sleep(0.5)


async def measure(stack: Stack, service_pid: int, asterisk_pid: int, path: str, rate: int,
                  run_no: int) -> RunResult:
    prefix = f"1{run_no:03d}"
    service = "12345" if path == "python" else "12399"
    cpu_a, cpu_s = cpu_seconds(asterisk_pid), cpu_seconds(service_pid)
    sipp_ok, wall = await run_sipp(stack, service, prefix, CALL_STEPS, CALLS_PER_RATE, rate,
                                   limit=rate * 12)
    await settle(stack, prefix, CALLS_PER_RATE)
    cpu_a, cpu_s = cpu_seconds(asterisk_pid) - cpu_a, cpu_seconds(service_pid) - cpu_s
    reached = 0
    for _caller, ivr_path, queue, _rec in records(stack, prefix):
        in_queue = queue == "hotline"
        if path == "python":
            in_queue = in_queue and json.loads(ivr_path) == ["operator"]
        reached += in_queue
    good = min(sipp_ok, reached)
    return RunResult(path, rate, CALLS_PER_RATE, sipp_ok, reached,
                     round(good / CALLS_PER_RATE, 4), round(wall, 1),
                     round(cpu_a / CALLS_PER_RATE, 4), round(cpu_s / CALLS_PER_RATE, 4))


async def concurrent_in_menu(stack: Stack) -> dict:
    """CONCURRENT callers listen to the Python menu at once; none may fail."""
    prefix = "1999"
    hold_ms = 12000
    peak = {"active": 0}

    async def watch() -> None:
        while True:
            with sqlite3.connect(stack.home / "hotline.db", timeout=30) as db:
                active = db.execute("SELECT count(*) FROM calls WHERE caller LIKE ? AND "
                                    "ended IS NULL", (f"{prefix}%",)).fetchone()[0]
            peak["active"] = max(peak["active"], active)
            await asyncio.sleep(0.5)

    watcher = asyncio.create_task(watch())
    ok, wall = await run_sipp(stack, "12345", prefix, [Pause(hold_ms), Hangup()], CONCURRENT,
                              rate=50, limit=CONCURRENT)
    watcher.cancel()
    await settle(stack, prefix, CONCURRENT)
    # Media flowed if each call's recording covers most of its time in the menu.
    seconds = [recorded_seconds(rec) for _c, _p, _q, rec in records(stack, prefix)]
    full = sum(1 for s in seconds if s >= hold_ms / 1000 * 0.8)
    return {"calls": CONCURRENT, "sipp_ok": ok, "failed": CONCURRENT - ok,
            "peak_active_in_ivr": peak["active"], "recordings_with_full_media": full,
            "min_recorded_seconds": round(min(seconds, default=0), 2),
            "wall_seconds": round(wall, 1)}


def recorded_seconds(recording: str | None) -> float:
    wav = Path(recording or "")
    size = wav.stat().st_size if wav.exists() else 0
    return max(0, size - 44) / 16000  # 8 kHz, 16-bit mono


def best_rate(results: list[RunResult], path: str) -> int:
    passing = [r.offered_cps for r in results
               if r.path == path and r.success_rate >= SUCCESS_TARGET]
    return max(passing, default=0)


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as home:
        stack = Stack(stack_env(Path(home), HOTLINE_BENCH_DIALPLAN="1",
                                HOTLINE_LOG_LEVEL="WARNING"))
        stack.start()
        try:
            # A seat on duty whose phone is not registered: callers wait in the queue, as
            # when every operator is busy (with nobody on duty they would leave a message).
            added = stack.cli("seats", "add", "1999", "--password", "bench-seat-pass")
            assert added.returncode == 0, added.stderr
            assert stack.cli("users", "add", ADMIN, "--role", "admin", "--password",
                             ADMIN_PASSWORD).returncode == 0
            await stack.login()
            await stack.post("/api/seats/1999/ready", {})
            assert stack.process is not None
            service_pid = stack.process.pid
            asterisk_pid = int((stack.home / "asterisk/run/asterisk.pid").read_text())
            results: list[RunResult] = []
            run_no = 0
            for rate in RATES:
                for path in ("dialplan", "python"):  # same rate, back to back
                    run_no += 1
                    result = await measure(stack, service_pid, asterisk_pid, path, rate, run_no)
                    print(json.dumps(asdict(result)), flush=True)
                    results.append(result)
            concurrent = await concurrent_in_menu(stack)
            print(json.dumps(concurrent), flush=True)
        finally:
            stack.stop()

    py, dp = best_rate(results, "python"), best_rate(results, "dialplan")
    py_runs = [r for r in results if r.path == "python"]
    dp_runs = [r for r in results if r.path == "dialplan"]
    py_cpu = sum(r.service_cpu_per_call for r in py_runs) / len(py_runs)
    ast_cpu = sum(r.asterisk_cpu_per_call for r in py_runs) / len(py_runs)
    summary = {
        "benchmark": "ivr_throughput",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform()},
        "method": __doc__.strip(),
        "calls_per_rate": CALLS_PER_RATE,
        "offered_rates_cps": RATES,
        "best_rate_at_99_9pct_cps": {"python_ivr": py, "pure_dialplan": dp},
        "rate_ratio_python_over_dialplan": round(py / dp, 3) if dp else None,
        "cpu_seconds_per_call": {
            "python_path_service": round(py_cpu, 4),
            "python_path_asterisk": round(ast_cpu, 4),
            "dialplan_path_asterisk": round(
                sum(r.asterisk_cpu_per_call for r in dp_runs) / len(dp_runs), 4),
        },
        "service_cpu_over_asterisk_cpu": round(py_cpu / ast_cpu, 3) if ast_cpu else None,
        "targets": {"rate_ratio": ">= 0.9", "service_cpu_over_asterisk_cpu": "<= 0.25",
                    "concurrent_failed": 0},
        "runs": [asdict(r) for r in results],
        "concurrent_in_ivr": concurrent,
        "note": "SIPp (callers and RTP echo) runs on the same 2 cores as Asterisk and the "
                "service, so absolute rates are a floor; the ratio is the comparison.",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ivr_throughput.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: summary[k] for k in ("best_rate_at_99_9pct_cps",
                                              "rate_ratio_python_over_dialplan",
                                              "cpu_seconds_per_call",
                                              "service_cpu_over_asterisk_cpu")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
