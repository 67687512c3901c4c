"""``clinicall run``: the controller and the web application, until SIGTERM or Ctrl-C.

Everything is started by :func:`clinicall.app.running` (store, tracker, controller) and the web
app is served on ``http.host:http.port``.  The cookie secret comes from ``CLINICALL_SECRET`` or
from ``var/web-secret`` (created once, mode 0600), so sessions survive a restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
from pathlib import Path

from aiohttp import web

from clinicall.app import running
from clinicall.controller.service import Clock, utc_now
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)

SECRET_ENV = "CLINICALL_SECRET"
SECRET_FILE = Path("var/web-secret")


def web_secret(path: Path = SECRET_FILE) -> bytes:
    """The cookie-signing secret: the environment's, else a file made on first use."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env.encode()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


async def serve(
    config: ClinicConfig,
    *,
    db_url: str | None = None,
    web_enabled: bool = True,
    stop: asyncio.Event | None = None,
    now: Clock = utc_now,
) -> None:
    """Run until ``stop`` is set (by default: until SIGTERM or SIGINT)."""
    from clinicall.web.app import build_app
    from clinicall.web.http_server import app_runner

    stop = stop or _stop_on_signals()
    async with running(config, db_url=db_url, now=now) as parts:
        runner: web.AppRunner | None = None
        if web_enabled:
            app = build_app(sessions=parts.sessions, config=config, live=parts.tracker.live,
                            health=parts.engine.health, account=parts.tracker.health,
                            secret=web_secret())
            runner = app_runner(app)
            await runner.setup()
            await web.TCPSite(runner, config.http.host, config.http.port).start()
            log.info("web on http://%s:%s/", config.http.host, config.http.port)
        try:
            await stop.wait()
        finally:
            if runner is not None:
                await runner.cleanup()
    log.info("stopped")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
