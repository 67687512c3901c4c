"""The reports over HTTP: ``GET /metrics`` (Prometheus) and ``GET /api/kpi`` (JSON).

``reports`` computes; this module (the web app's) serves.  The app puts the store's session
factory, the KPI settings and the clock under its keys (``web.keys``; the live state under
``METRICS_LIVE`` when there is one) before ``add_metrics``.  Authentication is the app's
middleware's business, not this module's.

    GET /api/kpi?from=2026-11-01&to=2026-11-30&by=queue,day   (local dates, both included)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from clinicall.reports.grouping import BadGroupingError
from clinicall.reports.kpi import compute
from clinicall.reports.metrics import KpiCollector
from clinicall.web.keys import CLOCK, KPI_SETTINGS, METRICS_LIVE, SESSIONS

_COLLECTOR = web.AppKey("reports_collector", KpiCollector)
_REGISTRY = web.AppKey("reports_registry", CollectorRegistry)


class ExtraCollector(Collector, Protocol):
    """Another part's metrics on /metrics (complaints): refreshed before each scrape."""

    async def refresh(self, now: datetime) -> None: ...


#: Collectors other parts add to /metrics (set before the app starts).
METRICS_EXTRA: web.AppKey[list[ExtraCollector]] = web.AppKey("metrics_extra")

MAX_DAYS = 400
#: The dates a report may ask for (a clinic's calls; far dates would overflow the clock).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def add_routes(app: web.Application) -> None:
    """Register /metrics and /api/kpi (see :func:`add_metrics` for /metrics alone)."""
    add_metrics(app)
    app.router.add_get("/api/kpi", kpi_handler)


def add_metrics(app: web.Application) -> None:
    """Register /metrics; its collector is built when the app starts (app state is frozen
    once it runs)."""
    app.router.add_get("/metrics", metrics_handler)
    app.cleanup_ctx.append(_metrics_collector)


async def _metrics_collector(app: web.Application) -> AsyncIterator[None]:
    collector = KpiCollector(app[SESSIONS], app[KPI_SETTINGS], app.get(METRICS_LIVE))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    for extra in app.get(METRICS_EXTRA, ()):
        registry.register(extra)
    app[_COLLECTOR], app[_REGISTRY] = collector, registry
    yield


def _collector(app: web.Application) -> tuple[KpiCollector, CollectorRegistry]:
    return app[_COLLECTOR], app[_REGISTRY]


async def metrics_handler(request: web.Request) -> web.Response:
    collector, registry = _collector(request.app)
    await collector.refresh(request.app[CLOCK]())
    for extra in request.app.get(METRICS_EXTRA, ()):
        await extra.refresh(request.app[CLOCK]())
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}),
                              content_type="application/json")


async def kpi_handler(request: web.Request) -> web.Response:
    settings = request.app[KPI_SETTINGS]
    try:
        first = date.fromisoformat(request.query["from"])
        last = date.fromisoformat(request.query.get("to", request.query["from"]))
    except (KeyError, ValueError):
        raise bad_request("give from=YYYY-MM-DD (and to=YYYY-MM-DD, included)") from None
    if last < first or (last - first).days > MAX_DAYS:
        raise bad_request(f"'to' must be on or after 'from', at most {MAX_DAYS} days later")
    if not (first >= FIRST_DAY and last <= LAST_DAY):
        raise bad_request(f"dates from {FIRST_DAY} to {LAST_DAY}")
    zone = settings.zone
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    try:
        async with request.app[SESSIONS]() as session:
            report = await compute(session, start=start, end=end,
                                   by=request.query.get("by", ""), config=settings)
    except BadGroupingError as exc:
        raise bad_request(str(exc)) from None
    return web.json_response(report.to_dict())
