"""The wiring: the store, the engine the clinic config names, the call account, the keeper of
the reports' hourly sums and the controller, started in order and closed in reverse.

This is the one place where the parts are wired together (docs/architecture.md): the engine
adapter is chosen here from ``engine.type`` and handed to the engine-neutral controller and
account as the engine port; nothing below this module knows which engine it got.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.controller.port import Engine
from clinicall.controller.service import Clock, Controller, utc_now
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.reports.keeper import HourlySumsKeeper
from clinicall.reports.settings import KpiSettings
from clinicall.settings.models import AsteriskEngine as AsteriskEngineSettings
from clinicall.settings.models import ClinicConfig

__all__ = ["Running", "build_engine", "running", "utc_now"]


def build_engine(
    config: ClinicConfig,
    *,
    agi_port: int | None = None,
    queue_log: str | os.PathLike[str] | None = None,
) -> Engine:
    """The engine adapter for the clinic config's ``engine:`` section.  ``agi_port`` and
    ``queue_log`` override the Asterisk settings (tests, the demo's sandbox)."""
    settings = config.engine
    if isinstance(settings, AsteriskEngineSettings):
        return AsteriskEngine(settings, agi_port=agi_port, queue_log=queue_log)
    return FreeswitchEngine(settings)


@dataclass(frozen=True, slots=True)
class Running:
    """Everything :func:`running` started, for the demo, the web app and the tests."""

    controller: Controller
    engine: Engine
    tracker: CallTracker
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def running(
    config: ClinicConfig,
    *,
    db_url: str | None = None,
    queue_log: str | Path | None = None,
    now: Clock = utc_now,
    agi_port: int | None = None,
) -> AsyncIterator[Running]:
    """The store (migrated to head), the engine, the call tracker, the keeper of the reports'
    hourly sums and the controller, started in order."""
    from clinicall.db import create_engine, session_factory, upgrade

    url = db_url or config.database.url
    make_sqlite_dir(url)
    await upgrade(url)
    async with AsyncExitStack() as stack:
        db = create_engine(url)
        stack.push_async_callback(db.dispose)
        sessions = session_factory(db)
        engine = build_engine(config, agi_port=agi_port, queue_log=queue_log)
        tracker = CallTracker(sessions, engine, TrackingConfig.from_clinic(config))
        await tracker.start()
        stack.push_async_callback(tracker.close)
        # the account keeps real time (``now`` is the IVR's clock for opening hours)
        sums = HourlySumsKeeper(sessions, KpiSettings.from_config(config), clock=utc_now)
        await sums.start()
        stack.push_async_callback(sums.close)
        controller = Controller(config, engine, account=tracker, now=now)
        await stack.enter_async_context(controller)
        yield Running(controller, engine, tracker, db, sessions)


def make_sqlite_dir(url: str) -> None:
    """``sqlite…:///var/clinicall.db``: create ``var/`` so a first run just works."""
    prefix, _, path = url.partition(":///")
    if prefix.startswith("sqlite") and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
