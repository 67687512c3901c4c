"""The demo's console: the web app served as ``run`` serves it, and one user per role."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from clinicall.app import Running
from clinicall.settings.models import ClinicConfig

Print = Callable[[str], None]


DEMO_USERS = (("demo", "manager", "Demo manager"), ("quality", "quality", "Demo reviewer"),
              ("op104", "operator", "Demo operator"), ("admin", "admin", "Demo admin"))


@asynccontextmanager
async def serve_console(parts: Running, config: ClinicConfig, port: int | None,
                        out: Print) -> AsyncIterator[str]:
    """Serve the web app and make the demo's users (one per role); yields the base URL."""
    from aiohttp import web

    from clinicall.app import operator_desk
    from clinicall.db.models import Role
    from clinicall.web.app import build_app
    from clinicall.web.http_server import app_runner
    from clinicall.web.users import add_user

    logins = []
    for name, role, display in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        await add_user(parts.sessions, name, Role(role), password, display_name=display)
        logins.append(f"{role} {name} / {password}")
    # Each demo starts afresh (a new store), so a fresh secret per run is enough.
    app = build_app(sessions=parts.sessions, config=config, live=parts.tracker.live,
                    health=parts.engine.health, secret=secrets.token_bytes(32),
                    desk=operator_desk(config, parts))
    runner = app_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, config.http.host, config.http.port if port is None else port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    url = f"http://{host}:{bound}/"
    out(f"demo: dashboard on {url}")
    out(f"demo: users (this demo only, new passwords each run): {'; '.join(logins)}")
    try:
        yield url
    finally:
        await runner.cleanup()


