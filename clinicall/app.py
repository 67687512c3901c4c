"""The wiring: the store, the engine the clinic config names, the call account, the keeper of
the reports' hourly sums and the controller, started in order and closed in reverse.

This is the one place where the parts are wired together (docs/architecture.md): the engine
adapter is chosen here from ``engine.type`` and handed to the engine-neutral controller and
account as the engine port; nothing below this module knows which engine it got.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.control import call_id_for as asterisk_call_id
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.desk import OperatorDesk
from clinicall.controller.port import Engine
from clinicall.controller.reminder_book import ReminderBook
from clinicall.controller.service import Clock, Controller, utc_now
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.live_seed import MemberSeed
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.reports.keeper import HourlySumsKeeper
from clinicall.reports.settings import KpiSettings
from clinicall.settings.models import AsteriskEngine as AsteriskEngineSettings
from clinicall.settings.models import ClinicConfig, EngineMismatch

__all__ = ["Running", "build_callback_scheduler", "build_engine", "running", "utc_now"]


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
    raise EngineMismatch("asterisk", settings.type)  # the only adapter of this version


@dataclass(frozen=True, slots=True)
class Running:
    """Everything :func:`running` started, for the demo, the web app and the tests."""

    controller: Controller
    engine: Engine
    tracker: CallTracker
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    callbacks: CallbackScheduler | None = None  # None unless ``callbacks.enabled``


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
        seed = MemberSeed(tracker.live, engine.control)  # the wallboard's operators at link-up
        engine.subscribe(seed.handle_fact)
        stack.push_async_callback(seed.close)
        controller = Controller(config, engine, account=tracker, surveys=tracker, now=now,
                                reminders=reminder_book(config, sessions))
        await stack.enter_async_context(controller)
        callbacks = None
        if config.callbacks.enabled:
            callbacks = build_callback_scheduler(config, engine, sessions)
            await callbacks.start()
            stack.push_async_callback(callbacks.close)
        yield Running(controller, engine, tracker, db, sessions, callbacks)


def reminder_book(config: ClinicConfig, sessions: async_sessionmaker[AsyncSession],
                  ) -> ReminderBook:  # fmt: skip
    """The reminder calls' appointments and answers (docs/reminders.md)."""
    from clinicall.db.appointments import AppointmentStore

    return ReminderBook(AppointmentStore(sessions), config, clock=utc_now)


def build_callback_scheduler(config: ClinicConfig, engine: Engine,
                             sessions: async_sessionmaker[AsyncSession], *,
                             owner: str | None = None,
                             settings: SchedulerSettings | None = None) -> CallbackScheduler:
    """The callback scheduler on the engine's control and the store, in real time (the
    account's clock: the missed calls it reads carry real times).  ``owner`` names this
    process in the jobs' claims (host and pid by default)."""
    from clinicall.db.callbacks import CallbackStore

    name = owner or f"{socket.gethostname()}:{os.getpid()}"
    own = config.callbacks
    settings = settings or SchedulerSettings(
        owner=name, caller_id=config.numbers[0].number, lease=timedelta(seconds=own.lease_s),
        resolve_after=timedelta(seconds=own.resolve_after_s))
    store = CallbackStore(sessions, owner=settings.owner, lease=settings.lease)
    if not isinstance(engine, AsteriskEngine):
        raise EngineMismatch("asterisk", engine.name)  # the only adapter of this version
    return CallbackScheduler(engine.control, store, config, call_id_for=asterisk_call_id,
                             clock=utc_now, settings=settings,
                             country_code=TrackingConfig.from_clinic(config).country_code)


def operator_desk(config: ClinicConfig, parts: Running) -> OperatorDesk:
    """The web console's way to the engine for operators (docs/console.md).  A member not
    seen in any queue yet is the engine's phone of the operator: Asterisk ``PJSIP/<id>``,
    FreeSWITCH's agent named by the id."""
    asterisk = isinstance(config.engine, AsteriskEngineSettings)

    def default_member(operator_id: str) -> str:
        return member_interface(operator_id, simulated=False) if asterisk else operator_id

    return OperatorDesk(parts.engine.control, parts.tracker.live, default_member,
                        country_code=TrackingConfig.from_clinic(config).country_code)


def make_sqlite_dir(url: str) -> None:
    """``sqlite…:///var/clinicall.db``: create ``var/`` so a first run just works."""
    prefix, _, path = url.partition(":///")
    if prefix.startswith("sqlite") and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
