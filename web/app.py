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

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.reports.settings import kpi_settings
from clinicall.settings.models import ClinicConfig
from clinicall.web import assets, auth_views, callbacks_api, dashboard, reports_api
from clinicall.web.access import access_middleware
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
    THROTTLE,
    AuthSettings,
    Clock,
)
from clinicall.web.live import AccountSource, HealthSource, LiveSource, MetricsLive
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
) -> web.Application:
    """The aiohttp application.  ``live`` and ``health`` are the controller's live view and
    its engine link's health (None: the web runs without a controller).

    ``cookie_secure`` None means: Secure cookies unless ``config.http.host`` is a loopback
    address (a TLS proxy in front is then expected); HSTS is sent when the request came over
    TLS or cookies are Secure.  ``password_cost`` is the argon2id cost new hashes get (and
    weaker ones are rehashed to on login).  Raises ValueError for a short secret.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the cookie secret needs at least {MIN_SECRET_BYTES} bytes")
    if cookie_secure is None:
        cookie_secure = not _is_loopback(config.http.host)
    # In this order: who is asking (and may they), then CSRF (needs the session), then the query.
    app = web.Application(middlewares=[access_middleware, csrf_middleware, query_middleware],
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
    reports_api.add_metrics(app)
    callbacks_api.add_routes(app)
    return app


async def _login_throttle(app: web.Application) -> AsyncIterator[None]:
    app[THROTTLE] = LoginThrottle()
    yield


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
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
