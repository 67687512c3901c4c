"""``GET /api/complaints/report?from&to`` (manager and quality roles): the complaint report of
a period, per queue and topic: cases opened, acknowledged, resolved, overdue now, time to
acknowledge and to resolve p50/p90 (reports.complaints; the same table as ``clinicall report
--section complaints``)."""

from __future__ import annotations

from aiohttp import web

from clinicall.reports.complaints import compute_complaints
from clinicall.web.keys import CLOCK, CONFIG, SESSIONS
from clinicall.web.reports_api import period


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/complaints/report", report)


async def report(request: web.Request) -> web.Response:
    start, end = period(request)
    async with request.app[SESSIONS]() as session:
        made = await compute_complaints(session, start=start, end=end,
                                        timezone=request.app[CONFIG].clinic.timezone,
                                        now=request.app[CLOCK]())
    return web.json_response(made.to_dict())
