"""Metrics read at scrape time from the services that already know the number (the open
call records, the tickets, the outbox, the AMI client, the speech pool), instead of a
second count kept beside theirs that could drift from it.

prometheus_client asks a collector synchronously; the reads are database queries. So a
scrape first awaits every source at once (`refresh`; a source several families read from
is asked once), then has the registry rendered with what was read: between the two
nothing else runs on the event loop, so each scrape shows its own fresh readings.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# One sample, or one per value of the family's label; None: no sample now (a ratio of
# nothing, speech off).
Values = float | Mapping[str, float] | None
Source = Callable[[], Any]  # what a service answers, or an awaitable of it
READ_TIMEOUT = 5.0  # a scrape waits no longer for the database; that family is left out


@dataclass(frozen=True)
class Reading:
    """One metric family whose value is read at each scrape."""

    name: str
    documentation: str
    source: Source
    pick: Callable[[Any], Values] | None = None  # the values out of what source answers
    label: str | None = None  # the one label its values are keyed by, if any
    kind: Literal["gauge", "counter"] = "gauge"

    def family(self, values: Values) -> Metric:
        maker = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        family = maker(self.name, self.documentation,
                       labels=[self.label] if self.label else None)
        if isinstance(values, Mapping):
            for key, value in values.items():
                family.add_metric([key], value)
        elif values is not None:
            family.add_metric([], values)
        return family


async def _ask(source: Source) -> Any:
    answer = source()
    if inspect.isawaitable(answer):
        return await asyncio.wait_for(answer, READ_TIMEOUT)
    return answer


class ScrapeTimeReadings(Collector):
    def __init__(self, readings: list[Reading]) -> None:
        self._readings = readings
        self._latest: list[Metric] = []

    async def refresh(self) -> None:
        """Ask every source, side by side. A source that fails (the database away) is
        logged and its families left out of this scrape; the others are still answered."""
        sources = list(dict.fromkeys(r.source for r in self._readings))
        answers = dict(zip(sources, await asyncio.gather(
            *(_ask(source) for source in sources), return_exceptions=True), strict=True))
        latest = []
        for reading in self._readings:
            answer = answers[reading.source]
            if isinstance(answer, BaseException):
                log.warning("metric %s not read: %s", reading.name,
                            answer or type(answer).__name__)
                continue
            latest.append(reading.family(reading.pick(answer) if reading.pick else answer))
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        return iter(self._latest)
