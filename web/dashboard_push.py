"""The manager's dashboard (``/``) pushed like the wallboard: ``GET /ws/dashboard`` sends the
live queues (``/api/live``'s body) and today's KPIs (``/api/kpi``'s body) at once and again
on every change of the controller's live state, with the wallboard's heartbeat, coalescing and
slow-socket rules (web/wallboard_push.py, whose machinery it reuses).  Today's numbers are read
from the store at most every ``TODAY_EVERY_S`` seconds.  docs/console.md.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiohttp import web

from clinicall.web.csrf import same_site
from clinicall.web.keys import ACCOUNT, CLOCK, CONFIG, HEALTH, LIVE, SESSIONS
from clinicall.web.kpi_today import today_report
from clinicall.web.live import live_view
from clinicall.web.wallboard_push import TODAY_EVERY_S, WallboardPush, live_push_context

log = logging.getLogger(__name__)


class DashboardPush(WallboardPush):
    """The wallboard's push with the dashboard's state."""

    def __init__(self, app: web.Application) -> None:
        super().__init__(app)
        self._kpi: dict[str, Any] | None = None
        self._kpi_at: datetime | None = None

    async def state(self) -> dict[str, object]:
        app = self._app
        now = app[CLOCK]()
        if self._kpi_at is None or (now - self._kpi_at).total_seconds() >= TODAY_EVERY_S:
            try:
                report = await today_report(app[SESSIONS], app[CONFIG], now)
            except Exception:  # the store is down: the live part still goes out
                log.warning("dashboard: today's numbers unavailable (store)", exc_info=True)
            else:
                self._kpi, self._kpi_at = report.to_dict(), now
        live = live_view(app[CONFIG], app[LIVE], now, app[HEALTH], app[ACCOUNT])
        return {"at": now.isoformat(), "live": live, "kpi": self._kpi}


DASHBOARD_PUSH = web.AppKey("dashboard_push", DashboardPush)


dashboard_push_context = live_push_context(DASHBOARD_PUSH, DashboardPush, "dashboard-push")


async def dashboard_socket(request: web.Request) -> web.WebSocketResponse:
    """Same-site only, as every console socket (docs/web-security.md)."""
    if not same_site(request):
        raise web.HTTPForbidden(text='{"error": "cross-site socket refused"}',
                                content_type="application/json")
    return await request.app[DASHBOARD_PUSH].serve(request)


async def _close_sockets(app: web.Application) -> None:
    await app[DASHBOARD_PUSH].close_all()


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(dashboard_push_context)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/ws/dashboard", dashboard_socket)
