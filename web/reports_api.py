"""The reports over HTTP: ``GET /metrics`` (Prometheus), ``GET /api/kpi`` and
``GET /api/survey`` (JSON).

``reports`` computes; this module (the web app's) serves.  The app puts the store's session
factory, the KPI settings and the clock under its keys (``web.keys``; the live state under
``METRICS_LIVE`` when there is one) before ``add_metrics``.  Authentication is the app's
middleware's business, not this module's.

    GET /api/kpi?from=2026-11-01&to=2026-11-30&by=queue,day   (local dates, both included)
    GET /api/survey?from=2026-11-01&to=2026-11-30&by=operator (queue, operator, route, day, hour)
    GET /api/demand?from=2026-11-01&to=2026-11-30   (every demand table; needs the clinic config)
    GET /api/staffing?from=2026-11-02&to=2026-11-29&sl=80&t=20&max_abandon=5   (history window)
    GET /api/reports/callbacks?from=2026-11-01&to=2026-11-30   (callback and reminder figures)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from clinicall.reports.callbacks import callback_report
from clinicall.reports.demand import compute_demand
from clinicall.reports.grouping import BadGroupingError
from clinicall.reports.kpi import compute
from clinicall.reports.metrics import KpiCollector
from clinicall.reports.staffing import Target, compute_staffing
from clinicall.reports.survey import compute_survey
from clinicall.web.keys import CLOCK, CONFIG, KPI_SETTINGS, METRICS_LIVE, SESSIONS

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
    app.router.add_get("/api/survey", survey_handler)
    app.router.add_get("/api/demand", demand_handler)
    app.router.add_get("/api/staffing", staffing_handler)
    app.router.add_get("/api/reports/callbacks", callbacks_handler)


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


def bad_request(message: str, code: str = "bad_request") -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message, "code": code}),
                              content_type="application/json")


def period(request: web.Request) -> tuple[datetime, datetime]:
    """``from``/``to`` (local dates, both included) as [start, end) in the clinic's zone."""
    settings = request.app[KPI_SETTINGS]
    try:
        first = date.fromisoformat(request.query["from"])
        last = date.fromisoformat(request.query.get("to", request.query["from"]))
    except (KeyError, ValueError):
        raise bad_request("give from=YYYY-MM-DD (and to=YYYY-MM-DD, included)",
                          "invalid_date") from None
    if last < first or (last - first).days > MAX_DAYS:
        raise bad_request(f"'to' must be on or after 'from', at most {MAX_DAYS} days later",
                          "bad_date_range")
    if not (first >= FIRST_DAY and last <= LAST_DAY):
        raise bad_request(f"dates from {FIRST_DAY} to {LAST_DAY}", "date_out_of_range")
    zone = settings.zone
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start, end


async def kpi_handler(request: web.Request) -> web.Response:
    settings = request.app[KPI_SETTINGS]
    start, end = period(request)
    try:
        async with request.app[SESSIONS]() as session:
            report = await compute(session, start=start, end=end,
                                   by=request.query.get("by", ""), config=settings)
    except BadGroupingError as exc:
        raise bad_request(str(exc)) from None
    return web.json_response(report.to_dict())


async def survey_handler(request: web.Request) -> web.Response:
    """The post-call survey's figures (docs/kpi.md, Survey), grouped by ``by``."""
    settings = request.app[KPI_SETTINGS]
    start, end = period(request)
    try:
        async with request.app[SESSIONS]() as session:
            report = await compute_survey(session, start=start, end=end,
                                          by=request.query.get("by", ""),
                                          timezone=settings.timezone,
                                          always=settings.survey_always,
                                          settings=settings)  # fmt: skip
    except BadGroupingError as exc:
        raise bad_request(str(exc)) from None
    return web.json_response(report.to_dict())


async def demand_handler(request: web.Request) -> web.Response:
    """Demand analytics (docs/kpi.md, Demand); the menus and routes come from the clinic
    config the app runs with."""
    start, end = period(request)
    config = request.app[CONFIG]
    async with request.app[SESSIONS]() as session:
        report = await compute_demand(session, start=start, end=end, config=config)
    return web.json_response(report.to_dict())


async def staffing_handler(request: web.Request) -> web.Response:
    """Operators needed per queue and hour of week (reports.staffing) from the window's calls;
    ``sl`` (%), ``t`` (s; absent: each queue's own) and ``max_abandon`` (%) set the target."""
    start, end = period(request)
    try:
        sl = float(request.query.get("sl", "80")) / 100
        t = float(request.query["t"]) if "t" in request.query else None
        max_abandon = float(request.query.get("max_abandon", "100")) / 100
    except ValueError:
        raise bad_request("sl, t and max_abandon are numbers") from None
    if not (0 < sl < 1 and 0 <= max_abandon <= 1 and (t is None or 0 < t <= 3600)):
        raise bad_request("sl in (0, 100), t in (0, 3600], max_abandon in [0, 100]")
    async with request.app[SESSIONS]() as session:
        report = await compute_staffing(session, start=start, end=end, config=request.app[CONFIG],
                                        target=Target(sl=sl, t_s=t, max_abandon=max_abandon))
    return web.json_response(report.to_dict())


async def callbacks_handler(request: web.Request) -> web.Response:
    """The callback and reminder figures of the period (reports.callbacks): the summary, the
    jobs per cause and the reminders per result, as ``clinicall report --section callbacks``."""
    settings = request.app[KPI_SETTINGS]
    start, end = period(request)
    async with request.app[SESSIONS]() as session:
        report = await callback_report(
            session, start=start, end=end, timezone=settings.timezone,
            unreturned_after=timedelta(minutes=settings.unreturned_after_min))
    return web.json_response(report.to_dict())
