"""GET /metrics: the Prometheus text format, for a scraper on this machine.

Open, like /api/health: everything listens on 127.0.0.1, so only this machine's processes
reach it; it holds counts only (no call id, number or name); and a scraper has no way to
keep a session alive. Put it behind the proxy that guards anything else if HOTLINE_BIND is
ever opened up.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from prometheus_client import CONTENT_TYPE_LATEST

from http_kit.routes import Answer, Routes
from ivr.metrics.service import HotlineMetrics

METRICS = web.AppKey("metrics", HotlineMetrics)
api = Routes()


@api.get("/metrics", "The hotline's metrics (Prometheus text format, no login)", public=True,
         answers={200: Answer("calls, queue, AGI, AMI, transfers, tickets, outbox, speech "
                              "(README \"Observability\")", media_type="text/plain")})
async def metrics(request: web.Request) -> web.Response:
    body = await request.app[METRICS].exposition()
    return web.Response(body=body, headers={hdrs.CONTENT_TYPE: CONTENT_TYPE_LATEST})


def setup(app: web.Application, metrics: HotlineMetrics) -> None:
    app[METRICS] = metrics
    api.register(app)
