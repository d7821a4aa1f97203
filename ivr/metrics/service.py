"""The hotline's metrics for whoever runs the line (README "Observability"): one
Prometheus registry per app, so several apps in one process (tests) never share a count.

Two kinds, both listed here and nowhere else:
- counted as it happens: calls arriving, queue joins and waits, fallbacks, AGI route
  errors, transfer legs. Fed by the call tracker's facts (`on_fact`) and by hooks the
  composition root hands to the AGI server and the transfer service, which import
  nothing of this slice.
- read at scrape time (`Reading`, ivr/metrics/scrape.py) from the service that already
  knows the number: calls up now, today's service level, tickets, outbox, AMI, speech.

Names are `hotline_*` with their unit; labels take a handful of values each, never a call
id or a phone number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from ivr.calls.facts import (
    CallAbandoned,
    CallArrived,
    CallQueued,
    EmergencyDialled,
    Fact,
    SeatAnswered,
)
from ivr.live_view.service import SERVICE_LEVEL_SECONDS, QueueToday
from ivr.metrics.scrape import Reading, ScrapeTimeReadings

# Queue waits: the service level's threshold is a bucket edge, so the share answered in
# time over any window is a ratio of two series.
WAIT_BUCKETS = (5.0, 10.0, SERVICE_LEVEL_SECONDS, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0,
                180.0, 300.0, 600.0, 1200.0)


@dataclass(frozen=True)
class MetricSources:
    """What the scrape-time metrics read, handed in by the composition root."""

    calls_by_stage: Callable[[], Awaitable[Mapping[str, int]]]  # CallLog.live_by_stage
    queue_today: Callable[[], Awaitable[QueueToday]]  # LiveView.queue_today
    tickets_by_status: Callable[[], Awaitable[Mapping[str, int]]]
    outbox_backlog: Callable[[], Awaitable[Mapping[str, int]]]  # OutboxAdmin.backlog
    ami_logins: Callable[[], int]  # AmiClient.connections: successful logins so far
    ami_connected: Callable[[], bool]
    speech: Callable[[], dict[str, Any]]  # SpeechService.counts
    # LiveConf.counts: the live version, and the versions applied so far by what became
    # of them (applies from `hotline conf apply` run in their own process: the versions
    # on disk are where both meet)
    conf: Callable[[], Awaitable[Mapping[str, Any]]]


def _asr(key: str) -> Callable[[dict[str, Any]], float | None]:
    # Speech switched off has no streams to speak of: its families stay empty.
    return lambda counts: counts[key] if counts["asr"] != "off" else None


def _readings(s: MetricSources) -> list[Reading]:
    return [
        Reading("hotline_calls_active", "Calls up now, by where they are: menu, queue "
                "(waiting for a seat), answered, other (on the way to an emergency line, "
                "a callback or a message)", s.calls_by_stage, label="stage"),
        Reading("hotline_queue_service_level_ratio", "Today's queue calls answered within "
                f"{SERVICE_LEVEL_SECONDS:.0f} s, of those answered or abandoned (as the "
                "supervisor's page)", s.queue_today, lambda today: today.service_level),
        Reading("hotline_queue_abandonment_ratio", "Today's queue calls abandoned, of those "
                "answered or abandoned (as the supervisor's page)", s.queue_today,
                lambda today: today.abandonment_rate),
        Reading("hotline_tickets", "Tickets by status", s.tickets_by_status, label="status"),
        Reading("hotline_outbox_events", "Ticket events not delivered downstream: pending "
                "(to be sent or retried) and dead (refused, waiting for an admin)",
                s.outbox_backlog, label="state"),
        Reading("hotline_ami_connected", "1 while the AMI client is logged in to a fully "
                "booted Asterisk", s.ami_connected, float),
        Reading("hotline_ami_reconnects_total", "AMI logins after the first (each followed "
                "by a resync)", s.ami_logins, lambda logins: max(0, logins - 1),
                kind="counter"),
        Reading("hotline_asr_streams_live", "Audio streams decoded live now", s.speech,
                _asr("live_streams")),
        Reading("hotline_asr_streams_refused_total", "Streams refused a live slot "
                "(transcribed after the call instead)", s.speech, _asr("refused_streams"),
                kind="counter"),
        Reading("hotline_asr_streams_fell_behind_total", "Live streams the decoders could "
                "not keep up with (transcribed after the call instead)", s.speech,
                _asr("fell_behind_streams"), kind="counter"),
        Reading("hotline_asr_after_call_transcriptions_total", "Calls transcribed from "
                "their recording after they ended", s.speech, _asr("after_call"),
                kind="counter"),
        Reading("hotline_config_version", "The configuration version the service runs "
                "(hotline conf history)", s.conf, lambda c: c["version"]),
        Reading("hotline_config_applies_total", "Configuration changes put live, by outcome: "
                "live (taken up), rolled_back (refused after the swap and put back by "
                "itself)", s.conf, lambda c: c["applies"], label="outcome", kind="counter"),
        Reading("hotline_config_rollbacks_total", "Earlier versions put back by an admin "
                "(hotline conf rollback)", s.conf, lambda c: c["rollbacks"], kind="counter"),
        # (Add a metric read at scrape time here, one line, its source in MetricSources.)
    ]


class HotlineMetrics:
    def __init__(self, sources: MetricSources) -> None:
        # No `*_created` series beside every counter: the text format's scrapers do not
        # read them, and they would double what is sent (a switch of the whole process).
        disable_created_metrics()
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter("hotline_calls_total", "Citizen calls that reached the hotline",
                             registry=r)
        self.queue_joins = Counter("hotline_queue_joins_total", "Callers who joined a queue",
                                   ["queue"], registry=r)
        self.queue_wait = Histogram(
            "hotline_queue_wait_seconds", "Time in the queue until a seat answered "
            "(outcome=answered) or the caller hung up (outcome=abandoned)", ["outcome"],
            buckets=WAIT_BUCKETS, registry=r)
        self.ivr_fallbacks = Counter(
            "hotline_ivr_fallbacks_total", "Callers the dialplan took to the queue because "
            "the IVR was down, crashed or ran out of time", registry=r)
        self.agi_route_errors = Counter(
            "hotline_agi_route_errors_total", "AGI routes that ended without carrying their "
            "caller on (the dialplan's fallback took over), by why", ["route", "reason"],
            registry=r)
        self.transfers = Counter(
            "hotline_transfers_total", "Transfer legs that ended, by mode (blind, consult, "
            "conference from the console; menu_emergency: the menu's key 8) and outcome",
            ["mode", "outcome"], registry=r)
        # (Add a counted metric here, one line, and feed it where the event happens.)
        for outcome in ("answered", "abandoned"):
            self.queue_wait.labels(outcome=outcome)  # both series exist from the start
        self._scraped = ScrapeTimeReadings(_readings(sources))
        r.register(self._scraped)

    async def on_fact(self, fact: Fact) -> None:
        """A call tracker subscriber."""
        if isinstance(fact, CallArrived):
            self.calls.inc()
        elif isinstance(fact, CallQueued):
            self.queue_joins.labels(queue=fact.queue).inc()
            if fact.route == "fallback":
                self.ivr_fallbacks.inc()
        elif isinstance(fact, SeatAnswered):
            self.queue_wait.labels(outcome="answered").observe(fact.wait_seconds)
        elif isinstance(fact, CallAbandoned):
            self.queue_wait.labels(outcome="abandoned").observe(fact.wait_seconds)
        elif isinstance(fact, EmergencyDialled):
            self.transfers.labels(mode="menu_emergency", outcome=fact.outcome).inc()

    def agi_route_failed(self, route: str, reason: str) -> None:
        """FastAgiServer's on_route_failed."""
        self.agi_route_errors.labels(route=route or "unknown", reason=reason).inc()

    def transfer_leg_ended(self, mode: str, outcome: str) -> None:
        """TransferService's on_leg_ended."""
        self.transfers.labels(mode=mode, outcome=outcome).inc()

    async def exposition(self) -> bytes:
        """The text format of everything, read now. Rendering a registry this size takes
        well under a millisecond, so it runs on the loop, right after the reads."""
        await self._scraped.refresh()
        return generate_latest(self.registry)
