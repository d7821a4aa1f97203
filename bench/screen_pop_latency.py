"""Screen-pop latency: from Asterisk's AgentCalled event to the pop arriving at the rung
seat's websocket, with 50 calls in the queue and 20 seats. Writes
bench/results/screen_pop_latency.json.

The service's pop path runs as its own process (bench/pop_server.py: real AMI client, call
tracker, screen pops, web app). This process plays Asterisk's AMI and the 20 operators'
browsers. For each call it sends Newchannel and QueueCallerJoin, then, once all 50 callers
wait, AgentCalled for each, spread over the 20 seats; five such rounds, so the p99 rests on
250 pops; latency is measured on the system-wide
monotonic clock from writing that frame to the websocket receiving the pop. The baseline in
the same run is the websocket round trip of the same server (GET /api/me over HTTP would
not be comparable): a hello frame's arrival after connecting.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.ami_peer import answered_actions
from tests.support.sipp import free_tcp_port

RESULTS = Path(__file__).with_name("results")
SEATS, CALLS = 20, 50
# Five rounds of 50 calls: a p99 over 50 pops would be the second-slowest single pop, so the
# rounds give the percentile samples enough to mean something; the max is reported too.
ROUNDS = 5


def frame(event: str, call: int, **fields: str) -> bytes:
    uid = f"1700000000.{call}"
    lines = [f"Event: {event}", f"Uniqueid: {uid}", f"Linkedid: {uid}",
             f"CallerIDNum: 13800{call:06d}", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class AsteriskSide:
    def __init__(self) -> None:
        self.port = free_tcp_port()
        self.writer: asyncio.StreamWriter | None = None
        self.ready = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for data, action_id in answered_actions(reader, writer):
            if b"Action: CoreShowChannels" in data:
                writer.write(b"Response: Success\r\nActionID: " + action_id +
                             b"\r\nEventList: start\r\n\r\nEvent: CoreShowChannelsComplete\r\n"
                             b"ActionID: " + action_id + b"\r\nEventList: Complete\r\n\r\n")
            self.writer = writer
            self.ready.set()


async def main() -> int:
    asterisk = AsteriskSide()
    server = await asyncio.start_server(asterisk.serve, "127.0.0.1", asterisk.port)
    web_port = free_tcp_port()
    with tempfile.TemporaryDirectory(prefix="bench-pop-") as tmp:
        proc = await asyncio.to_thread(
            subprocess.Popen, [sys.executable, "-m", "bench.pop_server",
                               f"sqlite+aiosqlite:///{tmp}/pop.db", str(web_port),
                               str(asterisk.port), str(SEATS)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert proc.stdout is not None
            line = await asyncio.to_thread(proc.stdout.readline)
            if "ready" not in line:
                raise RuntimeError(line + proc.stdout.read())
            result = await measure(web_port, asterisk)
        finally:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 10)
            server.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "screen_pop_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "method"}, indent=2))
    return 0


async def measure(web_port: int, asterisk: AsteriskSide) -> dict:
    base = f"http://127.0.0.1:{web_port}"
    arrived: dict[str, float] = {}
    hello_ms: list[float] = []
    async with aiohttp.ClientSession() as http:
        sockets = []
        for n in range(SEATS):
            async with http.post(f"{base}/api/login", json={"user": f"op{n}",
                                                            "password": "bench-password"}) as r:
                token = (await r.json())["token"]
            started = time.monotonic()
            ws = await http.ws_connect(f"{base.replace('http', 'ws')}/ws?token={token}")
            await ws.receive_json()  # hello
            hello_ms.append((time.monotonic() - started) * 1000)
            sockets.append(ws)

        async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for message in ws:
                data = message.json()
                if data["type"] == "screen_pop":
                    arrived[data["call_id"]] = time.monotonic()

        readers = [asyncio.create_task(read(ws)) for ws in sockets]
        await asterisk.ready.wait()
        writer = asterisk.writer
        assert writer is not None
        sent: dict[str, float] = {}
        for round_ in range(ROUNDS):
            calls = range(round_ * CALLS, (round_ + 1) * CALLS)
            for call in calls:  # 50 callers arrive and wait in the queue
                writer.write(frame("Newchannel", call, Context="hotline-inbound",
                                   Exten="12345"))
                writer.write(frame("QueueCallerJoin", call, Queue="hotline",
                                   Position=str(call % CALLS + 1)))
            await writer.drain()
            await asyncio.sleep(2)  # let the service record them all
            for call in calls:  # the queue rings a seat for each, a few ms apart
                seat = 2000 + call % SEATS
                payload = frame("AgentCalled", call, Queue="hotline",
                                Interface=f"PJSIP/{seat}", MemberName=f"Seat {seat}")
                sent[f"1700000000.{call}"] = time.monotonic()
                writer.write(payload)
                await writer.drain()
                await asyncio.sleep(0.02)
            for _ in range(200):
                if len(arrived) == len(sent):
                    break
                await asyncio.sleep(0.05)
        for task in readers:
            task.cancel()
        for ws in sockets:
            await ws.close()
    latencies = sorted((arrived[c] - sent[c]) * 1000 for c in sent if c in arrived)
    return {
        "benchmark": "screen_pop_latency",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "method": __doc__.strip(), "seats": SEATS, "calls_in_queue": CALLS,
        "rounds": ROUNDS, "pops_sent": len(sent), "pops_received": len(latencies),
        "latency_ms": {"p50": round(statistics.median(latencies), 1),
                       "p99": round(latencies[int(0.99 * (len(latencies) - 1))], 1),
                       "max": round(latencies[-1], 1)},
        "baseline_websocket_hello_ms_p50": round(statistics.median(hello_ms), 1),
        "target": {"p99_ms": "<= 50"},
        "cores": os.cpu_count(),
    }


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
