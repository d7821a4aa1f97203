"""A caller is never dropped because the Python side failed: AGI down, stuck, crashing, or
probed with garbage — the real Asterisk still takes the caller to the operator queue."""

import asyncio
import time

import pytest

from ivr.main import Hotline
from ivr.settings import Settings
from ivr.telephony.agi_server import AgiChannel
from tests.support.sipp import DtmfInfo, Hangup, Pause, call
from tests.support.stack import eventually, seat_on_duty, stack_env


@pytest.fixture
async def hotline(tmp_path):
    # A short IVR budget so a stuck AGI hands the caller over within the test's patience.
    settings = Settings.from_env(stack_env(tmp_path / "home", HOTLINE_IVR_MAX_SECONDS="4",
                                           HOTLINE_LOOP_STALL_SECONDS="2"))
    service = Hotline(settings)
    await service.start()
    await seat_on_duty(service)
    yield service
    await service.stop()


async def reaches_queue(hotline: Hotline, caller: str, steps) -> dict:
    placing = asyncio.create_task(call(hotline.settings.sip_port, caller, steps))

    async def queued():
        items, _ = await hotline.call_log.search(caller=caller)
        return items[0] if items and items[0].queue == "hotline" else None

    try:
        record = await eventually(queued, timeout=40, what=f"{caller} in the queue")
    finally:
        result = await placing
    assert result.ok, result.output[-2000:]
    return record


async def counted(hotline: Hotline, name: str, **labels: str) -> None:
    """The metric (GET /metrics' registry) says it happened once."""
    async def once():
        return hotline.metrics.registry.get_sample_value(name, labels) == 1

    await eventually(once, timeout=5, what=f"{name}{labels} == 1")


async def test_agi_server_stopped_the_caller_still_reaches_the_queue(hotline):
    await hotline.agi.stop()
    record = await reaches_queue(hotline, "13900000001", [Pause(12000), Hangup()])
    assert record.ivr_path == []  # the menu never ran, the dialplan took over
    assert record.caller == "13900000001"  # AMI alone opened the record
    await counted(hotline, "hotline_ivr_fallbacks_total")


async def test_a_stuck_agi_route_times_out_into_the_queue(hotline):
    async def stuck(channel: AgiChannel) -> None:
        await asyncio.sleep(3600)

    hotline.agi.routes["main_menu"] = stuck
    record = await reaches_queue(hotline, "13900000002", [Pause(16000), Hangup()])
    assert record.queue == "hotline"
    await counted(hotline, "hotline_ivr_fallbacks_total")
    await counted(hotline, "hotline_agi_route_errors_total", route="main_menu",
                  reason="over_budget")


async def test_a_crashing_agi_route_sends_the_caller_to_the_queue(hotline):
    async def crash(channel: AgiChannel) -> None:
        await channel.stream_file(str(hotline.settings.sounds_dir / "welcome"))
        raise RuntimeError("a bug in the menu")

    hotline.agi.routes["main_menu"] = crash
    record = await reaches_queue(hotline, "13900000003", [Pause(1000), DtmfInfo("1"),
                                                          Pause(12000), Hangup()])
    assert record.queue == "hotline"
    await counted(hotline, "hotline_ivr_fallbacks_total")
    await counted(hotline, "hotline_agi_route_errors_total", route="main_menu",
                  reason="crashed")


async def test_probes_and_garbage_on_the_agi_port_neither_spin_nor_break_it(hotline):
    port = hotline.settings.agi_port
    for i in range(60):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if i % 3 == 1:
            writer.write(b"\x00\xff garbage \x16\x03\x01" * 50)
        elif i % 3 == 2:
            writer.write(b"agi_network: yes\nagi_request: agi://x/main_menu\n")
        writer.close()
    await asyncio.sleep(0.5)
    cpu_before, wall_before = time.process_time(), time.monotonic()
    await asyncio.sleep(2)
    cpu_share = (time.process_time() - cpu_before) / (time.monotonic() - wall_before)
    assert cpu_share < 0.25, f"the service burns {cpu_share:.0%} of a core after probes"
    assert hotline.agi.serving and hotline.agi.active_calls == 0
    # and a real caller is served by the menu as usual
    record = await reaches_queue(hotline, "13900000004",
                                 [Pause(1500), DtmfInfo("0"), Pause(9000), Hangup()])
    assert record.ivr_path == ["operator"]


async def test_a_blocked_event_loop_hands_ivr_callers_to_the_queue(hotline):
    async def blocks_the_loop(channel: AgiChannel) -> None:
        await channel.stream_file(str(hotline.settings.sounds_dir / "digit_1"))
        time.sleep(6)  # noqa: ASYNC251  (the blocking call the watchdog exists for)

    hotline.agi.routes["main_menu"] = blocks_the_loop
    record = await reaches_queue(hotline, "13900000005", [Pause(16000), Hangup()])
    assert record.queue == "hotline"
    assert hotline.watchdog.stalls >= 1
