"""Configuration apply under load: `hotline conf apply --yes` end to end (check, scratch
Asterisk, diff, swap, AMI reload and its verification, the service taking the menu) while
50 calls are in progress, how many of them it disturbed (target 0), and what a new call
sees while it runs. Writes bench/results/conf_apply.json.

Real parts: the hotline (`hotline run`) and its Asterisk; 25 SIPp citizens sitting in the
menu and 25 waiting in the queue (a seat on duty that never answers); each apply changes
the menu (key 4's request kind) and an Asterisk file of the admin's
(conf/asterisk/extensions_bench.conf), so the dialplan is really reloaded.

- Baselines, in the same run and under the same 50 calls: a new call's INVITE → 200 OK
  (bench/sip_probe.py: the dialplan answers in hotline-inbound) with nothing being
  applied; and a bare AMI `Reload pbx_config.so` (what Asterisk itself needs to reload
  the dialplan), beside `hotline conf check` (the same checks and scratch Asterisk, no
  swap) for what the command costs before it changes anything.
- During each apply, new calls are probed back to back; those overlapping the apply are
  its sample. Extra latency = their p50/p99 against the baseline's.
- Affected calls: SIPp fails a call whose dialog does not go as scripted (dropped, BYE
  from our side, an error response): every one of the 50 must end as its script says.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.sip_probe import answer_time
from ivr.telephony.ami_client import AmiClient
from tests.support.sipp import DtmfInfo, Hangup, Pause, call
from tests.support.stack import ADMIN, ADMIN_PASSWORD, HOTLINE, Stack, eventually, stack_env

RESULTS = Path(__file__).with_name("results")
IN_MENU, IN_QUEUE = 25, 25
APPLIES = int(os.environ.get("BENCH_CONF_APPLIES", "4"))
HOLD_MS = 120_000  # every call stays up through all the applies
KEY_4 = ('"4" = { queue = "hotline", kind = "suggestion"',
         '"4" = { queue = "hotline", kind = "praise"')


def ms(samples: list[float]) -> dict[str, float | int]:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)
    return {"count": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


async def cli(stack: Stack, *args: str) -> tuple[float, int, str]:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        HOTLINE, *args, env=stack.env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    return time.monotonic() - started, process.returncode or 0, out.decode(errors="replace")


async def probes(stack: Stack, until: asyncio.Event, tag: str) -> list[tuple[float, float]]:
    """(sent at, INVITE → 200 OK) for new calls placed back to back until `until`."""
    found, n = [], 0
    while not until.is_set():
        n += 1
        sent = time.monotonic()
        try:
            found.append((sent, await answer_time(stack.sip_port, f"1398{tag}{n:05d}")))
        except (TimeoutError, RuntimeError) as exc:
            found.append((sent, float("inf")))
            print(f"probe failed: {exc}", file=sys.stderr)
        await asyncio.sleep(0.05)
    return found


def change(stack: Stack, n: int) -> None:
    """The n-th change: key 4's kind flips, and the admin's dialplan file says which one."""
    menu = stack.home / "conf" / "menu.toml"
    old, new = KEY_4 if n % 2 == 0 else KEY_4[::-1]
    menu.write_text(menu.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    own = stack.home / "conf" / "asterisk" / "extensions_bench.conf"
    own.parent.mkdir(exist_ok=True)
    own.write_text(f"[bench-notice]\nexten => s,1,NoOp(change {n})\n same => n,Hangup()\n",
                   encoding="utf-8")


async def run(home: Path) -> dict:
    stack = Stack(stack_env(home))
    await asyncio.to_thread(stack.start)
    try:
        for argv in (("users", "add", ADMIN, "--role", "admin", "--password", ADMIN_PASSWORD),
                     ("seats", "add", "1999", "--password", "busy-seat-pass")):
            assert (await asyncio.to_thread(stack.cli, *argv)).returncode == 0
        await stack.login()
        await stack.post("/api/seats/1999/ready", {})  # on duty, never answers: callers wait
        secret = (home / "secrets" / "ami_secret").read_text().strip()
        ami = AmiClient("127.0.0.1", stack.port("ami"), "hotline", secret)
        await ami.start()
        await ami.wait_connected(10)
        return await measure(stack, ami)
    finally:
        await asyncio.to_thread(stack.stop)


async def measure(stack: Stack, ami: AmiClient) -> dict:
    calls = [asyncio.create_task(call(stack.sip_port, f"13970{n:05d}", [
        Pause(HOLD_MS), Hangup()], timeout=HOLD_MS / 1000 + 60)) for n in range(IN_MENU)]
    calls += [asyncio.create_task(call(stack.sip_port, f"13971{n:05d}", [
        Pause(1500), DtmfInfo("0"), Pause(HOLD_MS), Hangup()], timeout=HOLD_MS / 1000 + 60))
        for n in range(IN_QUEUE)]

    async def all_up():
        active = await stack.get("/api/calls", active="true", limit="1")
        return active["total"] if active["total"] >= IN_MENU + IN_QUEUE else None

    await eventually(all_up, timeout=60, what="50 calls in progress")

    async def queued():
        active = (await stack.get("/api/calls", active="true", limit="100"))["items"]
        waiting = sum(1 for c in active if c["queue"])
        return waiting if waiting >= IN_QUEUE else None

    in_queue = await eventually(queued, timeout=60, what="25 callers in the queue")

    # Baselines under the same load.
    stop = asyncio.Event()
    idle_probing = asyncio.create_task(probes(stack, stop, "0"))
    await asyncio.sleep(6)
    stop.set()
    baseline = [took for _, took in await idle_probing]
    bare_reload = []
    for _ in range(5):
        started = time.monotonic()
        await ami.action("Reload", Module="pbx_config.so", timeout=15)
        bare_reload.append(time.monotonic() - started)
    change(stack, 0)
    check_seconds, check_rc, check_out = await cli(stack, "conf", "check")
    assert check_rc == 0, check_out

    applies, during = [], []
    for n in range(APPLIES):
        change(stack, n)
        stop = asyncio.Event()
        probing = asyncio.create_task(probes(stack, stop, str(n + 1)))
        await asyncio.sleep(0.5)
        started = time.monotonic()
        seconds, rc, out = await cli(stack, "conf", "apply", "--yes")
        ended = time.monotonic()
        await asyncio.sleep(0.3)
        stop.set()
        assert rc == 0 and "版已生效" in out, out
        applies.append(seconds)
        during += [took for at, took in await probing if started <= at <= ended]
        await asyncio.sleep(1)

    results = await asyncio.gather(*calls)
    affected = [r.output[-400:] for r in results if not r.ok]
    base, load = ms(baseline), ms(during)
    return {
        "calls_in_progress": IN_MENU + IN_QUEUE, "of_them_in_the_queue": in_queue,
        "calls_affected": len(affected), "affected_output": affected[:3],
        "applies": APPLIES,
        "apply_seconds": {"p50": round(statistics.median(applies), 2),
                          "max": round(max(applies), 2)},
        "baseline_conf_check_seconds": round(check_seconds, 2),
        "baseline_bare_reload_ms": ms(bare_reload),
        "new_call_answer_baseline": base, "new_call_answer_during_apply": load,
        "new_call_extra_ms": {
            "p50": round(load.get("p50_ms", 0) - base.get("p50_ms", 0), 1),
            "p99": round(load.get("p99_ms", 0) - base.get("p99_ms", 0), 1)},
        "new_calls_failed_during_apply": sum(1 for t in during if t == float("inf")),
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-conf-") as home:
        results = asyncio.run(run(Path(home)))
    passed = results["calls_affected"] == 0 and results["new_calls_failed_during_apply"] == 0
    document = {
        "benchmark": "conf_apply", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "method": __doc__, "cores": os.cpu_count(), "python": platform.python_version(),
        "targets": {"calls_affected": 0, "new_calls_failed_during_apply": 0},
        "results": results, "passed": passed,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "conf_apply.json").write_text(
        json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
