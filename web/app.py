"""The web application: login, the manager's dashboard, the live and KPI JSON API.

``build_app`` wires everything from its arguments (no module state): the store's session
factory, the clinic config, the controller's live state (None when run without one) and the
secret that signs the login form's CSRF token.  Access rules live in :mod:`web.access`, one
table; CSRF checks in :mod:`web.csrf`; the query parameters each route takes in
:mod:`web.query_rules`.  docs/web-security.md describes the whole.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.recordings.storage import Storage
from clinicall.reports.settings import kpi_settings
from clinicall.settings.models import ClinicConfig
from clinicall.web import (
    admin_api,
    admin_pages,
    appointments_api,
    assets,
    audit_api,
    auth_views,
    callbacks_api,
    complaint_case_api,
    complaint_flag_api,
    complaint_report_api,
    complaints_api,
    console_assets,
    dashboard,
    dashboard_push,
    holds_api,
    language_view,
    manager_reports,
    openapi,
    operator_desk,
    recordings_api,
    recordings_page,
    reports_api,
    timeline_api,
    wallboard,
)
from clinicall.web.access import access_middleware
from clinicall.web.api_errors import api_error_middleware
from clinicall.web.cookies import MIN_SECRET_BYTES
from clinicall.web.csrf import csrf_middleware
from clinicall.web.keys import (
    ACCOUNT,
    AUTH,
    CLOCK,
    CONFIG,
    HEALTH,
    KPI_SETTINGS,
    LIVE,
    METRICS_LIVE,
    SESSIONS,
    STYLE_NONCE,
    THROTTLE,
    AuthSettings,
    Clock,
)
from clinicall.web.live import AccountSource, HealthSource, LiveSource, MetricsLive
from clinicall.web.operator_desk import DeskLike
from clinicall.web.passwords import DEFAULT_COST, PasswordCost
from clinicall.web.query_rules import query_middleware
from clinicall.web.throttle import LoginThrottle

SESSION_TTL = timedelta(hours=10)  # one shift; then log in again

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": under it a browser sends "Origin: null" with the app's own form posts,
    # and the CSRF Origin check (web.csrf) could no longer tell them from a foreign site's.
    # "same-origin" still sends nothing to any other site.
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}
HSTS = "max-age=31536000"


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_app(
    *,
    sessions: async_sessionmaker[AsyncSession],
    config: ClinicConfig,
    live: LiveSource | None,
    secret: bytes,
    health: HealthSource | None = None,
    account: AccountSource | None = None,
    clock: Clock = utc_now,
    session_ttl: timedelta = SESSION_TTL,
    cookie_secure: bool | None = None,
    password_cost: PasswordCost = DEFAULT_COST,
    desk: DeskLike | None = None,
) -> web.Application:
    """The aiohttp application.  ``live`` and ``health`` are the controller's live view and
    its engine link's health (None: the web runs without a controller).

    ``cookie_secure`` None means: Secure cookies unless ``config.http.host`` is a loopback
    address (a TLS proxy in front is then expected); HSTS is sent when the request came over
    TLS or cookies are Secure.  ``password_cost`` is the argon2id cost new hashes get (and
    weaker ones are rehashed to on login).  ``desk`` is the operators' way to the engine
    (``controller.desk.OperatorDesk``; None: no queue login).  Raises ValueError for a short
    secret.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the cookie secret needs at least {MIN_SECRET_BYTES} bytes")
    if cookie_secure is None:
        cookie_secure = not _is_loopback(config.http.host)
    # In this order: who is asking (and may they), then CSRF (needs the session), then the query;
    # around them all, every API error in one shape (web/api_errors.py).
    app = web.Application(middlewares=[api_error_middleware, access_middleware, csrf_middleware,
                                       query_middleware],
                          client_max_size=64 * 1024)
    app[SESSIONS] = sessions
    app[CONFIG] = config
    app[LIVE] = live
    app[HEALTH] = health
    app[ACCOUNT] = account
    app[AUTH] = AuthSettings(secret, session_ttl, cookie_secure, password_cost)
    app[CLOCK] = clock
    app.cleanup_ctx.append(_login_throttle)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/login", auth_views.login_form)
    app.router.add_post("/login", auth_views.login_submit)
    app.router.add_post("/logout", auth_views.logout)
    app.router.add_post("/logout/all", auth_views.logout_everywhere)
    app.router.add_get("/assets/app.css", assets.stylesheet)
    app.router.add_get("/assets/dashboard.js", assets.script)
    app.router.add_get("/", dashboard.dashboard)
    app.router.add_get("/api/live", dashboard.api_live)
    app[KPI_SETTINGS] = kpi_settings(config)
    if live is not None:
        app[METRICS_LIVE] = MetricsLive(live, clock, health, account)
    app.router.add_get("/api/kpi", dashboard.api_kpi)
    app.router.add_get("/api/survey", reports_api.survey_handler)
    app.router.add_get("/api/demand", reports_api.demand_handler)
    app.router.add_get("/api/staffing", reports_api.staffing_handler)
    app.router.add_get("/api/reports/callbacks", reports_api.callbacks_handler)
    recordings_api.add_routes(app, Storage(Path(config.recordings.storage_dir)))
    recordings_page.add_routes(app)
    holds_api.add_routes(app)
    complaint_flag_api.add_routes(app)
    timeline_api.add_routes(app)
    complaint_report_api.add_routes(app)
    audit_api.add_routes(app)
    complaints_api.add_routes(app)  # before add_metrics: it adds to /metrics
    complaint_case_api.add_routes(app)  # after the report: /api/complaints/{id} matches it
    reports_api.add_metrics(app)
    console_assets.add_routes(app)
    wallboard.add_routes(app)
    dashboard_push.add_routes(app)  # the dashboard at / is pushed, not polled
    operator_desk.add_routes(app, desk)
    manager_reports.add_routes(app)
    language_view.add_routes(app)
    openapi.add_routes(app)
    admin_pages.add_routes(app)
    admin_api.add_routes(app)
    callbacks_api.add_routes(app)
    appointments_api.add_routes(app)
    return app


async def _login_throttle(app: web.Application) -> AsyncIterator[None]:
    app[THROTTLE] = LoginThrottle()
    yield


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    if nonce := request.get(STYLE_NONCE):
        policy = SECURITY_HEADERS["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace(
            "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
    response.headers["Server"] = "clinicall"  # not the framework's name and version
    if request.secure or request.app[AUTH].cookie_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    if not request.path.startswith("/assets/"):
        response.headers["Cache-Control"] = "no-store"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
