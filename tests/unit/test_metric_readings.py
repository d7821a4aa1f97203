"""Metrics read at scrape time: what a family says, a source asked once, a failing source
left out without taking the others with it."""

import logging

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ivr.metrics.scrape import Reading, ScrapeTimeReadings


def families(collector) -> dict:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {f.name: (f.type, {tuple(s.labels.values()): s.value for s in f.samples})
            for f in text_string_to_metric_families(text)}


async def test_gauges_counters_labels_and_no_sample_for_none():
    asked = []

    async def tickets():
        asked.append("tickets")
        return {"accepted": 3, "closed": 1}

    def today():
        asked.append("today")
        return {"service_level": 0.5, "abandonment": None}

    readings = ScrapeTimeReadings([
        Reading("hotline_tickets", "by status", tickets, label="status"),
        Reading("hotline_level_ratio", "level", today, lambda t: t["service_level"]),
        Reading("hotline_abandon_ratio", "abandon", today, lambda t: t["abandonment"]),
        Reading("hotline_logins_total", "logins", lambda: 4, kind="counter"),
    ])
    await readings.refresh()
    found = families(readings)
    assert found["hotline_tickets"] == ("gauge", {("accepted",): 3, ("closed",): 1})
    assert found["hotline_level_ratio"] == ("gauge", {(): 0.5})
    assert found["hotline_abandon_ratio"] == ("gauge", {})  # a ratio of nothing: no sample
    assert found["hotline_logins"] == ("counter", {(): 4})  # exposed as hotline_logins_total
    assert sorted(asked) == ["tickets", "today"]  # two families, one question


async def test_a_failing_source_is_logged_and_left_out_the_others_answer(caplog):
    async def broken():
        raise OSError("database is locked")

    readings = ScrapeTimeReadings([
        Reading("hotline_outbox_events", "backlog", broken, label="state"),
        Reading("hotline_ami_connected", "up", lambda: 1.0),
    ])
    with caplog.at_level(logging.WARNING):
        await readings.refresh()
    assert set(families(readings)) == {"hotline_ami_connected"}
    assert "hotline_outbox_events not read: database is locked" in caplog.text
