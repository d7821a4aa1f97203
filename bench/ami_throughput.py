"""AMI event throughput: how many events per second the service's real AmiClient parses and
dispatches into the real CallTracker, and the event loop's scheduling lag meanwhile.
Writes bench/results/ami_throughput.json.

A real Asterisk cannot be made to emit tens of thousands of events per second, so the load
comes from a loopback peer that speaks AMI (banner, login, Ping) and then streams call
events shaped like Asterisk 22's (Newchannel, QueueCallerJoin, AgentCalled, AgentConnect,
Hangup, plus the VarSet/Newexten noise an unfiltered manager sends). The baseline in the
same run is the same stream read and split into frames by a bare asyncio reader: the ratio
shows what parsing and dispatch cost on top of reading the socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.ami_peer import answered_actions
from ivr.calls.call_log import CallLog
from ivr.calls.tracker import CallTracker
from ivr.telephony.ami_client import AmiClient
from store.db import Database
from tests.support.sipp import free_tcp_port

RESULTS = Path(__file__).with_name("results")
CALLS = int(os.environ.get("BENCH_AMI_CALLS", "4000"))


def call_events(n: int) -> bytes:
    uid = f"1700000000.{n}"
    common = (f"Channel: PJSIP/trunk-{n:08x}\r\nCallerIDNum: 1380000{n:04d}\r\n"
              f"Uniqueid: {uid}\r\nLinkedid: {uid}\r\n")
    frames = [
        f"Event: Newchannel\r\nPrivilege: call,all\r\n{common}Context: hotline-inbound\r\n"
        "Exten: 12345\r\n",
        f"Event: VarSet\r\nPrivilege: dialplan,all\r\n{common}Variable: HOTLINE_ROUTE\r\n"
        "Value: queue\r\n",
        f"Event: Newexten\r\nPrivilege: dialplan,all\r\n{common}Context: hotline-queue\r\n"
        "Application: Queue\r\n",
        f"Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n{common}Queue: hotline\r\n"
        "Position: 1\r\nCount: 1\r\n",
        f"Event: AgentCalled\r\nPrivilege: agent,all\r\n{common}Queue: hotline\r\n"
        "Interface: PJSIP/1001\r\nMemberName: Seat 1001\r\n",
        f"Event: AgentConnect\r\nPrivilege: agent,all\r\n{common}Queue: hotline\r\n"
        "Interface: PJSIP/1001\r\nMemberName: Seat 1001\r\nHoldTime: 3\r\n",
        f"Event: Hangup\r\nPrivilege: call,all\r\n{common}Cause: 16\r\n"
        "Cause-txt: Normal Clearing\r\n",
    ]
    return "".join(f + "\r\n" for f in frames).encode()


class Firehose:
    """Loopback AMI peer: answers Login and Ping, then streams the events once."""

    def __init__(self, payload: bytes) -> None:
        self.port = free_tcp_port()
        self.payload = payload
        self.sent = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        streamed = False
        async for _frame, _action_id in answered_actions(reader, writer):
            if not streamed:
                streamed = True
                writer.write(self.payload)
                await writer.drain()
                self.sent.set()


async def loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        samples.append((time.perf_counter() - started - 0.005) * 1000)


async def baseline(payload: bytes, frames: int) -> float:
    """Read and split the same stream, nothing else: events/s."""
    port = free_tcp_port()
    done = asyncio.Event()

    async def serve(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(payload)
        await w.drain()
        w.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    reader, _w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    started = time.perf_counter()
    for _ in range(frames):
        await reader.readuntil(b"\r\n\r\n")
    elapsed = time.perf_counter() - started
    done.set()
    server.close()
    return frames / elapsed


async def main() -> int:
    payload = b"".join(call_events(n) for n in range(CALLS))
    frames = CALLS * 7
    with tempfile.TemporaryDirectory(prefix="bench-ami-") as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await db.migrate()
        firehose = Firehose(payload)
        await firehose.start()
        dispatched = 0
        first_at = last_at = 0.0
        all_dispatched = asyncio.Event()
        tracker: CallTracker | None = None

        def on_event(message: dict[str, str]) -> None:
            nonlocal dispatched, first_at, last_at
            now = time.perf_counter()
            first_at = first_at or now
            last_at = now
            dispatched += 1
            if dispatched == frames:
                all_dispatched.set()
            assert tracker is not None
            tracker.on_event(message)

        ami = AmiClient("127.0.0.1", firehose.port, "bench", "x", on_event=on_event,
                        ping_interval=30)
        tracker = CallTracker(CallLog(db), ami)
        await tracker.start()
        lags: list[float] = []
        stop = asyncio.Event()
        lag_task = asyncio.create_task(loop_lag(lags, stop))
        await ami.start()
        await asyncio.wait_for(all_dispatched.wait(), 120)
        parse_rate = frames / (last_at - first_at)
        applied_started = time.perf_counter()
        await tracker.idle()  # the tracked events written to the call records
        apply_seconds = time.perf_counter() - applied_started + (last_at - first_at)
        stop.set()
        await lag_task
        await ami.stop()
        await tracker.stop()
        await firehose.stop()
        open_calls = len(await CallLog(db).open_call_ids())
        await db.close()
    bare = await baseline(payload, frames)
    tracked = CALLS * 5  # events of the 7 per call that change a call record
    summary = {
        "benchmark": "ami_throughput", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "method": __doc__.strip(), "calls": CALLS, "events": frames,
        "parsed_and_dispatched_per_second": round(parse_rate),
        "baseline_bare_read_per_second": round(bare),
        "ratio_to_baseline": round(parse_rate / bare, 3),
        "event_loop_lag_ms": {"p50": round(statistics.median(lags), 2),
                              "p99": round(sorted(lags)[int(0.99 * len(lags))], 2),
                              "max": round(max(lags), 2)},
        "call_record_updates_per_second": round(tracked / apply_seconds),
        "calls_left_open": open_calls,
        "targets": {"events_per_second": ">= 20000", "loop_lag_p99_ms": "<= 50"},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ami_throughput.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "method"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
