"""The wiring: the store, the engine the clinic config names, the call account, the keeper of
the reports' hourly sums and the controller, started in order and closed in reverse.

This is the one place where the parts are wired together (docs/architecture.md): the engine
adapter is chosen here from ``engine.type`` and handed to the engine-neutral controller and
account as the engine port; nothing below this module knows which engine it got.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.callback_book import CallbackBook
from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.callbacks.threshold_offers import ThresholdOffers
from clinicall.controller.desk import OperatorDesk
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.controller.offer_desk import CallbackOfferDesk
from clinicall.controller.port import Engine
from clinicall.controller.reminder_book import ReminderBook
from clinicall.controller.service import Clock, Controller, utc_now
from clinicall.controller.shift_logins import ShiftLogins, Skills
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.live_seed import MemberSeed
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.db.callbacks import CallbackStore
from clinicall.db.queue_history import RecentQueues
from clinicall.ivr.voice_message import VoiceMessage
from clinicall.recordings.import_loop import ImportLoop
from clinicall.recordings.importer import Importer
from clinicall.recordings.storage import Spool, Storage
from clinicall.recordings.voice_complaints import MessageCase, open_from_message
from clinicall.reports.keeper import HourlySumsKeeper
from clinicall.reports.settings import KpiSettings
from clinicall.settings.models import AsteriskEngine as AsteriskEngineSettings
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)

__all__ = ["Running", "build_callback_scheduler", "build_engine", "build_import_loop", "running",
           "utc_now"]


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
    callbacks: CallbackScheduler | None = None  # None unless ``callbacks.enabled``
    shift: ShiftLogins | None = None  # the operators' queue logins at link-up
    #: None unless ``recordings.enabled`` and ``recordings.import_every_s``.
    recordings_import: ImportLoop | None = None


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
        shift = ShiftLogins(engine.control, operator_skills(config), default_member(config))
        engine.subscribe(shift.handle_fact)  # dynamic members: docs/engines/asterisk.md
        stack.push_async_callback(shift.close)
        messages = VoiceComplaints(config, sessions, tracker)
        recent = recent_queues(config, sessions)
        controller = Controller(config, engine, account=tracker, surveys=tracker, now=now,
                                messages=messages, reminders=reminder_book(config, sessions),
                                offers=offer_desk(config, engine, sessions, recent),
                                callbacks=callback_book(config, sessions))
        await stack.enter_async_context(controller)
        callbacks = None
        if config.callbacks.enabled:
            callbacks = build_callback_scheduler(config, engine, sessions)
            engine.subscribe(callbacks.handle_fact)  # an operator came free: a round now
            await callbacks.start()
            stack.push_async_callback(callbacks.close)
            threshold_offers = build_threshold_offers(config, engine, sessions, recent)
            if threshold_offers.thresholds():  # some queue offers at a wait threshold
                await threshold_offers.start()
                stack.push_async_callback(threshold_offers.close)
        recordings_import = build_import_loop(config, sessions)
        if recordings_import is not None:
            await recordings_import.start()
            stack.push_async_callback(recordings_import.close)
        yield Running(controller, engine, tracker, db, sessions, callbacks, shift,
                      recordings_import)


class VoiceComplaints:
    """The controller's :class:`MessageAccount`: a voice message left on the complaint route
    opens a case (recordings.voice_complaints), after the account wrote what it has of the
    call so the case is linked to it."""

    def __init__(self, config: ClinicConfig, sessions: async_sessionmaker[AsyncSession],
                 tracker: CallTracker) -> None:
        self.config, self.sessions, self.tracker = config, sessions, tracker
        self.opened: list[MessageCase] = []  # this process's cases, newest last (tests)

    async def record_message(self, message: VoiceMessage) -> None:
        try:
            await self.tracker.flush()
            case = await open_from_message(
                self.sessions, self.config.complaints, call_key=message.call.call_id,
                phone=message.call.caller_number, spool_path=f"{message.name}.{message.fmt}",
                fmt=message.fmt, seconds=message.seconds, topic=message.route, at=utc_now())
        except Exception:  # the message stays in the spool; said in the log, the call goes on
            log.exception("call %s: the complaint message could not be filed",
                          message.call.call_id)
            return
        self.opened.append(case)
        log.info("call %s: complaint case %s opened from a voice message", message.call.call_id,
                 case.case_id)


def build_import_loop(config: ClinicConfig,
                      sessions: async_sessionmaker[AsyncSession]) -> ImportLoop | None:
    """The recordings importer on ``recordings.import_every_s`` (docs/recordings.md); None
    when it is off or this host has no spool directory (the PBX runs elsewhere, or a
    sandbox)."""
    rec = config.recordings
    if not rec.enabled or not rec.import_every_s:
        return None
    if not Path(rec.spool_dir).is_dir():  # no PBX spool on this host: nothing to import
        log.warning("recordings: no spool directory %s on this host; recordings are not "
                    "imported (set recordings.spool_dir)", rec.spool_dir)
        return None

    def importer(executor: Executor) -> Importer:
        return Importer(sessions, Storage(Path(rec.storage_dir)), Spool(Path(rec.spool_dir)),
                        transcode=rec.transcode, sweep_after_s=rec.sweep_after_s,
                        executor=executor)

    return ImportLoop.for_importer(importer, every_s=rec.import_every_s)


def reminder_book(config: ClinicConfig, sessions: async_sessionmaker[AsyncSession],
                  ) -> ReminderBook:  # fmt: skip
    """The reminder calls' appointments and answers (docs/reminders.md)."""
    from clinicall.db.appointments import AppointmentStore

    return ReminderBook(AppointmentStore(sessions), config, clock=utc_now)


def recent_queues(config: ClinicConfig,
                  sessions: async_sessionmaker[AsyncSession]) -> RecentQueues:
    """The queues' recent handle times and abandons that the estimated wait reads (one for
    the offer desk and the threshold watcher, so they read and announce alike)."""
    return RecentQueues(sessions, wrapup_s=lambda queue: float(
        config.queues[queue].wrapup_s if queue in config.queues else 0))


def _reading_store(config: ClinicConfig, sessions: async_sessionmaker[AsyncSession],
                   owner: str) -> CallbackStore:
    """The callbacks' store for a part that never claims a job (the lease is the config's)."""
    return CallbackStore(sessions, owner=owner,
                         lease=timedelta(seconds=config.callbacks.lease_s))


def callback_book(config: ClinicConfig,
                  sessions: async_sessionmaker[AsyncSession]) -> CallbackBook | None:
    """What the callback call's whisper and greeting read, when callbacks are enabled."""
    if not config.callbacks.enabled:
        return None
    return CallbackBook(_reading_store(config, sessions, "callback-call"))


def offer_desk(config: ClinicConfig, engine: Engine,
               sessions: async_sessionmaker[AsyncSession],
               recent: RecentQueues | None = None) -> CallbackOfferDesk | None:
    """The in-queue callback offer's desk when callbacks are enabled (docs/callbacks.md)."""
    if not config.callbacks.enabled:
        return None
    store = _reading_store(config, sessions, "offer")
    return CallbackOfferDesk(engine.control, store, config, clock=utc_now,
                             country_code=TrackingConfig.from_clinic(config).country_code,
                             history=recent)


def build_threshold_offers(config: ClinicConfig, engine: Engine,
                           sessions: async_sessionmaker[AsyncSession],
                           recent: RecentQueues | None = None) -> ThresholdOffers:
    """The watcher that offers a callback to callers whose estimated wait passed their
    queue's ``offer_after_min`` (docs/callbacks.md, "The offer in the queue")."""
    return ThresholdOffers(engine.control, _reading_store(config, sessions, "offer"),
                           config, clock=utc_now, history=recent)


def build_callback_scheduler(config: ClinicConfig, engine: Engine,
                             sessions: async_sessionmaker[AsyncSession], *,
                             owner: str | None = None,
                             settings: SchedulerSettings | None = None) -> CallbackScheduler:
    """The callback scheduler on the engine's control and the store, in real time (the
    account's clock: the missed calls it reads carry real times), on either engine: the call
    id rule is the engine's (``Engine.call_id_for``).  ``owner`` names this
    process in the jobs' claims (host and pid by default)."""
    name = owner or f"{socket.gethostname()}:{os.getpid()}"
    own = config.callbacks
    settings = settings or SchedulerSettings(
        owner=name, caller_id=config.outbound_caller_id(), lease=timedelta(seconds=own.lease_s),
        resolve_after=timedelta(seconds=own.resolve_after_s))
    store = CallbackStore(sessions, owner=settings.owner, lease=settings.lease)
    return CallbackScheduler(engine.control, store, config, call_id_for=engine.call_id_for,
                             clock=utc_now, settings=settings,
                             country_code=TrackingConfig.from_clinic(config).country_code)


def operator_skills(config: ClinicConfig) -> list[Skills]:
    return [Skills(op.id, dict(op.queues)) for op in config.operators]


def default_member(config: ClinicConfig) -> Callable[[str], str]:
    """A member not seen in any queue yet is the engine's phone of the operator: Asterisk
    ``PJSIP/<id>``, FreeSWITCH's agent named by the id."""
    asterisk = isinstance(config.engine, AsteriskEngineSettings)

    def member(operator_id: str) -> str:
        return member_interface(operator_id, simulated=False) if asterisk else operator_id

    return member


def operator_desk(config: ClinicConfig, parts: Running) -> OperatorDesk:
    """The web console's way to the engine for operators (docs/console.md)."""
    return OperatorDesk(parts.engine.control, parts.tracker.live, default_member(config),
                        country_code=TrackingConfig.from_clinic(config).country_code,
                        shift=parts.shift)


def make_sqlite_dir(url: str) -> None:
    """``sqlite…:///var/clinicall.db``: create ``var/`` so a first run just works."""
    prefix, _, path = url.partition(":///")
    if prefix.startswith("sqlite") and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
