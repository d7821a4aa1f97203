"""GET /metrics of the real web app over a real socket, read by prometheus_client's own
parser: the counts follow calls fed through the call tracker as AMI sends them, a real
FastAGI server's crashing route, tickets and the outbox in a real SQLite database."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from ivr.accounts.service import Accounts
from ivr.callback_requests.service import CallbackRequests
from ivr.calls.call_log import CallLog
from ivr.calls.tracker import CallTracker
from ivr.listen_in.service import ListenInService
from ivr.live_view.service import LiveView
from ivr.log_format import CallIdFilter, JsonLineFormatter, current_call
from ivr.main import WebServices, build_web_app
from ivr.metrics.service import HotlineMetrics, MetricSources
from ivr.screen_pops.service import ScreenPops
from ivr.seats.service import SeatService
from ivr.speech.service import SpeechService
from ivr.telephony.agi_server import FastAgiServer
from ivr.telephony.ami_client import AmiClient
from tests.support.sipp import free_tcp_port
from tests.support.tickets import ticket_service
from tickets.filing import NewTicket
from tickets.lifecycle import Actor
from tickets.outbox import OutboxAdmin

OPERATOR = Actor("op1", "operator", None)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, as prometheus_client's parser reads it."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


@pytest.fixture
async def hotline(db, tmp_path):
    calls = CallLog(db)
    tickets = ticket_service(db)
    ami = AmiClient("127.0.0.1", free_tcp_port(), "hotline", "secret")  # never connected
    speech = SpeechService(None, calls, workers=1, live_streams=1)  # speech off
    live_view = LiveView(db, "hotline", "Asia/Shanghai")
    outbox = OutboxAdmin(db)
    metrics = HotlineMetrics(MetricSources(
        calls.live_by_stage, live_view.queue_today, tickets.count_by_status, outbox.backlog,
        lambda: ami.connections, lambda: ami.connected, speech.counts,
        lambda: asyncio.sleep(0, {"version": 1, "applies": {"live": 0, "rolled_back": 0},
                                  "rollbacks": 0})))
    tracker = CallTracker(calls, ami)
    tracker.subscribers.append(metrics.on_fact)
    await tracker.start()
    web = build_web_app(WebServices(
        Accounts(db), calls, lambda: asyncio.sleep(0, {}), tickets, outbox, db,
        SeatService(db, tmp_path, "127.0.0.1", "hotline", "hotline-night"),
        ScreenPops(calls, tickets), ListenInService(db, calls), CallbackRequests(db, calls),
        live_view, metrics=metrics))
    client = TestClient(TestServer(web, host="127.0.0.1"))
    await client.start_server()
    yield client, tracker, tickets, metrics
    await client.close()
    await tracker.stop()


async def scrape(client: TestClient) -> dict:
    response = await client.get("/metrics")  # no login: like /api/health
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return samples(await response.text())


def citizen(event: str, call_id: str, **fields: str) -> dict[str, str]:
    return {"Event": event, "Uniqueid": call_id, "Linkedid": call_id,
            "ChanVariable": f"HOTLINE_CALL_ID={call_id}", **fields}


async def test_counters_follow_the_calls_and_the_state_is_read_at_scrape(hotline):
    client, tracker, tickets, _ = hotline
    before = await scrape(client)
    assert value(before, "hotline_calls_total") == 0
    assert value(before, "hotline_calls_active", stage="queue") == 0
    assert value(before, "hotline_queue_service_level_ratio") is None  # no call yet today
    assert not any(name.startswith("hotline_asr") for name, _ in before)  # speech off

    seen: list[tuple[str, str | None]] = []

    async def note(fact):  # what a subscriber's log lines would say the call is
        seen.append((fact.call_id, current_call()))

    tracker.subscribers.append(note)
    for call_id, caller in (("c1", "13800000001"), ("c2", "13800000002"),
                            ("c3", "13800000003"), ("c4", "13800000004")):
        tracker.on_event(citizen("Newchannel", call_id, Context="hotline-inbound",
                                 CallerIDNum=caller))
    # c1: the menu sent it to the queue, a seat answered after 8 s (within the 15 s).
    tracker.on_event(citizen("QueueCallerJoin", "c1", Queue="hotline",
                             ChanVariable="HOTLINE_CALL_ID=c1\nHOTLINE_ROUTE=queue"))
    tracker.on_event({"Event": "AgentConnect", "Uniqueid": "seat-leg", "Linkedid": "c1",
                      "MemberName": "PJSIP/1001", "HoldTime": "8", "Queue": "hotline"})
    # c2: the IVR was down, the dialplan's fallback queued it; it gave up after 40 s.
    tracker.on_event(citizen("QueueCallerJoin", "c2", Queue="hotline",
                             ChanVariable="HOTLINE_CALL_ID=c2\nHOTLINE_ROUTE=fallback"))
    tracker.on_event(citizen("QueueCallerAbandon", "c2", Queue="hotline", HoldTime="40"))
    tracker.on_event(citizen("Hangup", "c2", **{"Cause-txt": "Normal Clearing"}))
    # c3: waiting still. c4: still in the menu, then key 8: 110 answered.
    tracker.on_event(citizen("QueueCallerJoin", "c3", Queue="hotline",
                             ChanVariable="HOTLINE_CALL_ID=c3\nHOTLINE_ROUTE=queue"))
    tracker.on_event({"Event": "DialEnd", "Uniqueid": "c4", "Linkedid": "c4",
                      "Context": "hotline-emergency", "DestUniqueid": "c4-110",
                      "DialStatus": "ANSWER", "ChanVariable": "HOTLINE_CALL_ID=c4"})
    await tracker.idle()
    await tickets.create(NewTicket("13800000001", "complaint", "停水三天"), OPERATOR)
    await tickets.create(NewTicket("13800000002", "help", "路灯不亮"), OPERATOR)

    after = await scrape(client)
    assert value(after, "hotline_calls_total") == 4
    assert value(after, "hotline_queue_joins_total", queue="hotline") == 3
    assert value(after, "hotline_ivr_fallbacks_total") == 1
    assert value(after, "hotline_queue_wait_seconds_count", outcome="answered") == 1
    assert value(after, "hotline_queue_wait_seconds_bucket", outcome="answered", le="15.0") == 1
    assert value(after, "hotline_queue_wait_seconds_count", outcome="abandoned") == 1
    assert value(after, "hotline_queue_wait_seconds_sum", outcome="abandoned") == 40
    assert value(after, "hotline_transfers_total", mode="menu_emergency",
                 outcome="answered") == 1
    # read from the call records at the scrape: c1 answered, c3 waiting, c4 in the menu
    assert {stage: value(after, "hotline_calls_active", stage=stage)
            for stage in ("menu", "queue", "answered", "other")} == {
        "menu": 1, "queue": 1, "answered": 1, "other": 0}
    assert value(after, "hotline_queue_service_level_ratio") == 0.5  # c1 of c1, c2
    assert value(after, "hotline_queue_abandonment_ratio") == 0.5
    assert value(after, "hotline_tickets", status="accepted") == 2
    assert value(after, "hotline_tickets", status="archived") == 0
    assert value(after, "hotline_outbox_events", state="pending") == 2  # no receiver set
    assert value(after, "hotline_outbox_events", state="dead") == 0
    assert value(after, "hotline_ami_connected") == 0
    assert value(after, "hotline_ami_reconnects_total") == 0
    # every fact was handled as work about its own call
    assert seen and all(call_id == current for call_id, current in seen)


async def test_a_crashing_agi_route_is_counted_and_its_log_line_names_the_call(hotline):
    client, _, _, metrics = hotline
    finished = asyncio.Event()

    async def main_menu(channel):
        finished.set()
        raise RuntimeError("a bug in the menu")

    port = free_tcp_port()
    agi = FastAgiServer({"main_menu": main_menu}, "127.0.0.1", port,
                        on_route_failed=metrics.agi_route_failed)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(CallIdFilter())
    handler.setFormatter(JsonLineFormatter())
    logging.getLogger().addHandler(handler)
    await agi.start()
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network: yes\nagi_network_script: main_menu\n"
                     b"agi_channel: PJSIP/trunk-1\nagi_uniqueid: 1700000000.7\n\n")
        await asyncio.wait_for(finished.wait(), 5)
        for _ in range(100):
            if value(await scrape(client), "hotline_agi_route_errors_total",
                     route="main_menu", reason="crashed") == 1:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the crash was not counted")
        writer.close()
    finally:
        await agi.stop()
        logging.getLogger().removeHandler(handler)
    crash = [json.loads(line) for line in lines.getvalue().splitlines()
             if "a bug in the menu" in line]
    assert crash and crash[0]["call_id"] == "1700000000.7"
    assert crash[0]["level"] == "ERROR" and crash[0]["logger"] == "ivr.telephony.agi_server"
    assert "RuntimeError: a bug in the menu" in crash[0]["exception"]
