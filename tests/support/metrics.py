"""/metrics as a scraper sees it: read by prometheus_client's own parser."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


async def scrape(stack) -> dict:  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession() as http, http.get(f"{stack.base_url}/metrics") as r:
        assert r.status == 200  # no login, like /api/health
        text = await r.text()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)
