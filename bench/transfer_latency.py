"""Transfer latency: from the operator's API call to the unit's INVITE arriving at the
trunk, and from the three-way call request to the unit joining the call's room, beside
the same Asterisk's bare AMI Originate-to-INVITE time in the same run (the floor). Writes
bench/results/transfer_latency.json.

Real parts: the hotline (`hotline run`) with its Asterisk, 20 registered seats (one SIPp
phone answers them all), SIPp citizens who press 0 and are answered, and a SIP answerer
at the trunk (bench/sip_unit.py) noting each INVITE's arrival on this process's monotonic
clock. Three measurements:
- floor: AMI Originate of PJSIP/NUMBER@trunk straight from this process, one at a time
  and 20 at once: what Asterisk itself needs to put an INVITE on the wire; measured on the
  idle Asterisk first, then once after every transfer while the same calls are up (the
  loaded floor, which the ratio uses), beside an authenticated no-op request
  (GET /api/me) for what the HTTP round trip alone costs;
- transfers: 50 three-way calls, one at a time, in rounds of 10 answered citizens;
  request→INVITE, and request→ConfbridgeJoin of the unit's leg (which includes the unit
  answering, here at once, and the briefing it hears first, reported beside);
- in flight: 20 citizens answered by 20 seats, 20 transfer requests at once; none may fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path

import aiohttp

from bench.sip_unit import SipUnit, serve
from ivr.telephony.ami_client import AmiClient, Message
from ivr.telephony.ami_events import channel_var
from ivr.telephony.dialplan_vars import LEG
from tests.support.phone import Phone
from tests.support.sipp import DtmfInfo, Hangup, Pause, call, free_udp_port, register
from tests.support.stack import ADMIN, ADMIN_PASSWORD, Stack, eventually, login_token, stack_env

RESULTS = Path(__file__).with_name("results")
SEATS = 20
ROUNDS, PER_ROUND = int(os.environ.get("BENCH_TRANSFER_ROUNDS", "5")), 10
BRIEFING = ("briefing_intro", "briefing_citizen", "briefing_connecting")  # no ticket, no kind
TARGET_P99_MS, TARGET_RATIO = 100, 2.0


def summary(samples: list[float]) -> dict[str, float | int]:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"count": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(p99 * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


class Bench:
    def __init__(self, stack: Stack, unit: SipUnit) -> None:
        self.stack, self.unit = stack, unit
        self.joined: dict[str, float] = {}
        self.join_seen = asyncio.Event()
        self.tokens: dict[str, str] = {}
        self.ami: AmiClient | None = None

    def on_event(self, message: Message) -> None:
        leg = channel_var(message, LEG)
        if message.get("Event") == "ConfbridgeJoin" and leg:
            self.joined.setdefault(leg, time.monotonic())
            self.join_seen.set()

    async def invite(self, match: str, value: str, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = (self.unit.invite_for(match, value) if match != "uri" else next(
                (i for i in self.unit.invites if i.uri.startswith(value)), None))
            if found:
                return found.at
            self.unit.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.unit.arrived.wait(), 0.05)
        raise AssertionError(f"no INVITE with {match} {value}")

    async def floor(self, number: int) -> float:
        assert self.ami is not None
        started = time.monotonic()
        await self.ami.action("Originate", Channel=f"PJSIP/{number}@trunk",
                              Application="Wait", Data="1", Async="true", Timeout="5000")
        return await self.invite("uri", f"sip:{number}@") - started

    async def answered_calls(self, first: int, count: int, talk_ms: int) -> tuple[
            list[asyncio.Task], list[dict]]:
        callers = [f"1370000{first + n:04d}" for n in range(count)]
        placing = [asyncio.create_task(call(self.stack.sip_port, c, [
            Pause(1500), DtmfInfo("0"), Pause(talk_ms), Hangup()], rtp=False,
            timeout=talk_ms / 1000 + 40)) for c in callers]

        records: list = []

        async def all_answered():
            records[:] = [await self.stack.call_of(c) for c in callers]
            return all(r and r["answered"] and r["seat"] for r in records)

        try:
            await eventually(all_answered, timeout=60, what="citizens answered")
        except AssertionError:
            waiting = [(r or {}).get("caller") for r in records if not (r and r["answered"])]
            queue = await asyncio.to_thread(self.stack.asterisk_cli, "queue show hotline")
            raise AssertionError(f"not answered: {waiting}\n{queue}") from None
        return placing, records

    async def transfer(self, http: aiohttp.ClientSession, record: dict) -> tuple[
            int, float, str]:
        started = time.monotonic()
        async with http.post(f"{self.stack.base_url}/api/calls/{record['id']}/transfer",
                             json={"unit": "U1", "mode": "conference"},
                             headers={"Authorization": f"Bearer {self.tokens[record['seat']]}"}
                             ) as response:
            body = await response.json()
        return response.status, started, body.get("leg", "")

    async def noop(self, http: aiohttp.ClientSession, seat: str) -> float:
        started = time.monotonic()
        async with http.get(f"{self.stack.base_url}/api/me",
                            headers={"Authorization": f"Bearer {self.tokens[seat]}"}) as r:
            assert r.status == 200, await r.text()
        return time.monotonic() - started

    async def joined_at(self, leg: str, timeout: float = 20) -> float:
        """When the leg joined (noted by on_event as it arrived; this only waits for it)."""
        async with asyncio.timeout(timeout):
            while leg not in self.joined:
                self.join_seen.clear()
                await self.join_seen.wait()
        return self.joined[leg]


def briefing_seconds(sounds: Path) -> float:
    total = 0.0
    for prompt in BRIEFING:
        with wave.open(str(sounds / f"{prompt}.wav")) as w:
            total += w.getnframes() / w.getframerate()
    return round(total, 2)


async def staff(stack: Stack, phone: Phone, bench: Bench) -> None:
    for n in range(SEATS):
        seat = str(1301 + n)
        for argv in (("seats", "add", seat, "--password", f"seat-{seat}-pass"),
                     ("users", "add", f"op{seat}", "--role", "operator", "--password",
                      f"op{seat}-password", "--seat", seat)):
            assert (await asyncio.to_thread(stack.cli, *argv)).returncode == 0
        assert (await register(stack.sip_port, seat, f"seat-{seat}-pass", phone.port)).ok
        bench.tokens[seat] = await login_token(stack, f"op{seat}", f"op{seat}-password")
        async with aiohttp.ClientSession() as http, http.post(
                f"{stack.base_url}/api/seats/{seat}/ready",
                headers={"Authorization": f"Bearer {bench.tokens[seat]}"}) as r:
            assert r.status == 200, await r.text()


async def run(home: Path) -> dict:
    trunk_port = free_udp_port()
    unit = await serve(trunk_port)
    stack = Stack(stack_env(home, HOTLINE_TRUNK=f"127.0.0.1:{trunk_port}"))
    await asyncio.to_thread(stack.start)
    bench = Bench(stack, unit)
    try:
        for argv in (("users", "add", ADMIN, "--role", "admin", "--password", ADMIN_PASSWORD),
                     ("units", "add", "U1", "--name", "基准测试单位", "--phone", "2001")):
            assert (await asyncio.to_thread(stack.cli, *argv)).returncode == 0
        await stack.login()
        async with Phone(free_udp_port(), "answer", timeout=900) as phone:
            await staff(stack, phone, bench)
            secret = (home / "secrets" / "ami_secret").read_text().strip()
            bench.ami = AmiClient("127.0.0.1", stack.port("ami"), "hotline", secret,
                                  on_event=bench.on_event)
            await bench.ami.start()
            await bench.ami.wait_connected(15)
            return await measure(bench, home)
    finally:
        if bench.ami is not None:
            await bench.ami.stop()
        await asyncio.to_thread(stack.stop)


async def measure(bench: Bench, home: Path) -> dict:
    floor = [await bench.floor(9000 + n) for n in range(50)]
    floor_burst = await asyncio.gather(*(bench.floor(9100 + n) for n in range(SEATS)))
    to_invite, to_join, failures = [], [], 0
    loaded_floor: list[float] = []
    noop: list[float] = []
    async with aiohttp.ClientSession() as http:
        for round_ in range(ROUNDS):
            placing, records = await bench.answered_calls(round_ * PER_ROUND, PER_ROUND, 25000)
            placed = []
            for record in records:  # one at a time: each waits for its INVITE
                status, started, leg = await bench.transfer(http, record)
                if status != 202:
                    failures += 1
                    continue
                to_invite.append(await bench.invite("x-hotline-call-id", record["id"]) - started)
                placed.append((started, leg))
                loaded_floor.append(await bench.floor(9200 + len(loaded_floor)))
                noop.append(await bench.noop(http, record["seat"]))
            for started, leg in placed:  # the briefing plays meanwhile
                to_join.append(await bench.joined_at(leg) - started)
            await asyncio.gather(*placing)
        placing, records = await bench.answered_calls(100, SEATS, 30000)
        sent = await asyncio.gather(*(bench.transfer(http, r) for r in records))
        burst_failed = sum(1 for status, _, _ in sent if status != 202)
        burst_invite, burst_join = [], []
        for record, (status, started, leg) in zip(records, sent, strict=True):
            if status == 202:
                burst_invite.append(await bench.invite("x-hotline-call-id", record["id"])
                                    - started)
                burst_join.append(await bench.joined_at(leg) - started)
        await asyncio.gather(*placing)
    briefing = briefing_seconds(home / "sounds")
    transfer, base = summary(to_invite), summary(loaded_floor)
    return {
        "floor_originate_to_invite_idle": summary(floor),
        "floor_originate_to_invite": base,
        "floor_20_at_once": summary(list(floor_burst)),
        "noop_request": summary(noop),
        "transfer_request_to_invite": transfer,
        "conference_request_to_unit_joined": summary(to_join),
        "briefing_seconds": briefing,
        "conference_join_beyond_briefing": summary([t - briefing for t in to_join]),
        "transfer_failures": failures,
        "in_flight_20": {"requests": SEATS, "failed": burst_failed,
                         "joined": len(burst_join),
                         "request_to_invite": summary(burst_invite),
                         "request_to_unit_joined": summary(burst_join)},
        "p99_over_floor_p99": round(transfer["p99_ms"] / max(base["p99_ms"], 0.1), 2),
        "p50_over_floor_p50": round(transfer["p50_ms"] / max(base["p50_ms"], 0.1), 2),
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as home:
        results = asyncio.run(run(Path(home)))
    transfer = results["transfer_request_to_invite"]
    passed = (transfer["p99_ms"] <= TARGET_P99_MS
              and results["p99_over_floor_p99"] <= TARGET_RATIO
              and results["in_flight_20"]["failed"] == 0
              and results["in_flight_20"]["joined"] == SEATS
              and results["transfer_failures"] == 0)
    document = {
        "benchmark": "transfer_latency", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime()),
        "method": __doc__, "cores": os.cpu_count(), "python": platform.python_version(),
        "targets": {"request_to_invite_p99_ms": f"<= {TARGET_P99_MS}",
                    "p99_over_floor": f"<= {TARGET_RATIO}", "in_flight_20_failed": 0},
        "results": results, "passed": passed,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "transfer_latency.json").write_text(
        json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
