"""The application's dependencies, each under a typed ``web.AppKey`` (no module globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Role
from clinicall.reports.metrics import LiveState
from clinicall.reports.settings import KpiSettings
from clinicall.settings.models import ClinicConfig
from clinicall.web.live import AccountSource, HealthSource, LiveSource
from clinicall.web.passwords import PasswordCost
from clinicall.web.throttle import LoginThrottle

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who made a request (from the session cookie or a Bearer token).  A cookie request also
    carries its session: the SHA-256 of its id (to end it) and its CSRF token."""

    user_id: int
    username: str
    role: Role
    via_token: bool
    session_key_hash: str | None = None
    csrf_token: str | None = None


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """``secret`` signs the login form's CSRF token; ``cookie_secure`` also turns HSTS on."""

    secret: bytes
    session_ttl: timedelta
    cookie_secure: bool
    password_cost: PasswordCost


SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
CONFIG = web.AppKey("config", ClinicConfig)
LIVE: web.AppKey[LiveSource | None] = web.AppKey("live")
HEALTH: web.AppKey[HealthSource | None] = web.AppKey("health")
ACCOUNT: web.AppKey[AccountSource | None] = web.AppKey("account")
AUTH = web.AppKey("auth", AuthSettings)
THROTTLE = web.AppKey("throttle", LoginThrottle)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
KPI_SETTINGS = web.AppKey("kpi_settings", KpiSettings)
#: The live queue state as the Prometheus collector reads it (absent: no live gauges).
METRICS_LIVE = web.AppKey("metrics_live", LiveState)
IDENTITY = web.RequestKey("identity", Identity)

#: A request's nonce for one inline ``<style>`` (the recordings page's waveform library):
#: the security headers add it to the page's ``style-src`` (docs/web-security.md).
STYLE_NONCE = web.RequestKey("style_nonce", str)
