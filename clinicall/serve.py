"""``clinicall run``: the controller and the web application, until SIGTERM or Ctrl-C.

Everything is started by :func:`clinicall.app.running` (store, tracker, controller) and the web
app is served on ``http.host:http.port``.  The cookie secret comes from ``CLINICALL_SECRET`` or
from ``http.secret_file`` (``var/web-secret`` beside the config by default; created once, mode
0600), so the form tokens stay valid across a restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from clinicall import heap, sdnotify
from clinicall.app import Running, operator_desk, running
from clinicall.controller.service import Clock, utc_now
from clinicall.settings.models import AsteriskEngine, ClinicConfig

log = logging.getLogger(__name__)

SECRET_ENV = "CLINICALL_SECRET"


def web_secret(path: Path) -> bytes:
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
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run until ``stop`` is set (by default: until SIGTERM or SIGINT).

    ``announce`` gets one line per part once it is up (the store, the engine link, the FastAGI
    port, the keeper of the hourly sums, the web console) and a hint when the console has no
    user yet: what an administrator starting the service wants to see without ``-v``.
    """
    from clinicall.web.app import build_app
    from clinicall.web.http_server import app_runner
    from clinicall.web.recordings_metrics import add_import_health

    stop = stop or _stop_on_signals()
    async with running(config, db_url=db_url, now=now) as parts:
        if announce is not None:
            for line in startup_lines(config, db_url or config.database.url,
                                      importing=parts.recordings_import is not None):
                announce(line)
        runner: web.AppRunner | None = None
        if web_enabled:
            app = build_app(sessions=parts.sessions, config=config, live=parts.tracker.live,
                            health=parts.engine.health, account=parts.tracker.health,
                            secret=web_secret(Path(config.http.secret_file)),
                            desk=operator_desk(config, parts))
            if parts.recordings_import is not None:
                add_import_health(app, parts.recordings_import.health)
            runner = app_runner(app)
            await runner.setup()
            await web.TCPSite(runner, config.http.host, config.http.port).start()
            log.info("web on http://%s:%s/", config.http.host, config.http.port)
            if announce is not None:
                announce(f"web console: http://{config.http.host}:{config.http.port}/")
                if not await _has_users(parts):
                    announce("web console: no user yet; add one with 'clinicall user add "
                             "NAME --role admin'")
        heap.settle()  # a full collection no longer walks what the start built
        sdnotify.notify("READY=1", f"STATUS={_status(config, web_enabled)}")
        try:
            await stop.wait()
        finally:
            sdnotify.notify("STOPPING=1", "STATUS=stopping")
            if runner is not None:
                await runner.cleanup()
    log.info("stopped")


def _status(config: ClinicConfig, web_enabled: bool) -> str:
    """The one line ``systemctl status`` shows while running."""
    web = f"; console http://{config.http.host}:{config.http.port}/" if web_enabled else ""
    return f"serving {config.clinic.name[config.default_language]}{web}"


def startup_lines(config: ClinicConfig, db_url: str, *, importing: bool = False) -> list[str]:
    """What :func:`running` started, one line each, with where it listens or connects."""
    from sqlalchemy import make_url

    from clinicall.db.status import head_revision

    store = make_url(db_url).render_as_string(hide_password=True)
    lines = [f"store: {store} (at revision {head_revision()})"]
    engine = config.engine
    if isinstance(engine, AsteriskEngine):
        lines += [f"engine: Asterisk AMI {engine.ami_host}:{engine.ami_port} as "
                  f"{engine.ami_user} (connecting in the background; a failure is logged)",
                  f"engine: FastAGI IVR on {engine.agi_host}:{engine.agi_port}, serving "
                  f"{', '.join(engine.agi_allow)}",
                  f"engine: queue_log {engine.queue_log}"]
    else:
        lines += [f"engine: FreeSWITCH Event Socket {engine.esl_host}:{engine.esl_port} "
                  "(connecting in the background; a failure is logged)",
                  f"engine: outbound socket IVR on {engine.outbound_host}:"
                  f"{engine.outbound_port}"]
    lines.append("keeper: the reports' hourly sums, brought up to date every minute")
    rec = config.recordings
    if importing:  # started only where this host has the PBX's spool (docs/recordings.md)
        lines.append(f"recordings: imported from {rec.spool_dir} into {rec.storage_dir} every "
                     f"{rec.import_every_s} s")
    return lines


async def _has_users(parts: Running) -> bool:
    from clinicall.web.users import list_users

    return bool(await list_users(parts.sessions))


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
