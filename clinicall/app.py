"""The controller: one clinic's FastAGI IVR server, its AMI connection and its call account.

This is the one place where the parts are wired together (docs/architecture.md: feature parts built
and passed their dependencies explicitly).  ``ivr`` and ``routing`` stay pure; the engine
specifics live in ``agi_scripts`` and ``controller``; this module only connects them and owns
their lifetimes: :func:`running` starts everything in order and, on the way out, closes and
awaits everything it started, in reverse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clinicall.agi_scripts.asterisk_port import AsteriskCallPort
from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.server import FastAgiServer, ScriptRouter
from clinicall.agi_scripts.variables import IVR_SCRIPT
from clinicall.controller.asterisk.ami.client import AMIClient
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.outcome import IvrOutcome
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.port import CallInfo
from clinicall.privacy import mask_number
from clinicall.reports.keeper import HourlySumsKeeper
from clinicall.reports.settings import KpiSettings
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class CallAccount(Protocol):
    """What the controller feeds the call account (``controller.tracking.CallTracker``)."""

    async def record_ivr(
        self, info: CallInfo, outcome: IvrOutcome, started_at: datetime
    ) -> None: ...

    def handle_event(self, message: Message) -> None:
        """Every AMI frame, in wire order; must not block (the tracker batches)."""
        ...


class Controller:
    """Runs the IVR for every call Asterisk hands over and keeps the AMI link up."""

    def __init__(
        self,
        config: ClinicConfig,
        *,
        account: CallAccount | None = None,
        now: Clock = utc_now,
        agi_port: int | None = None,
    ) -> None:
        self.config = config
        self.account = account
        self.now = now
        self.plan = IvrPlan.compile(config)
        ast = config.asterisk
        self.agi = FastAgiServer(
            ScriptRouter({IVR_SCRIPT: self.ivr_session}),
            host=ast.agi_host,
            port=ast.agi_port if agi_port is None else agi_port,
        )
        self.ami = AMIClient(
            ast.ami_host, ast.ami_port, ast.ami_user, ast.ami_secret, on_status=self._ami_status
        )
        self.calls_handled = 0
        self._writes: set[asyncio.Task[None]] = set()

    async def ivr_session(self, channel: AgiChannel) -> None:
        """One call through the IVR; its outcome goes to the call account.

        ``self.now`` is the clinic's clock for opening hours (the demo and tests pin it); the
        account always records the real time.
        """
        started = utc_now()
        port = await AsteriskCallPort.open(channel)
        outcome = await run_ivr(port, self.config, now=self.now, plan=self.plan)
        self.calls_handled += 1
        info = port.info
        log.info(
            "call %s from %s: %s, language %s, path %s, route %s",
            info.call_id,
            mask_number(info.caller_number),
            outcome.outcome,
            outcome.language,
            outcome.path or "-",
            outcome.route or "-",
        )
        if self.account is not None:
            # Returning closes the FastAGI session and Asterisk moves the caller on to Queue():
            # the patient must never wait for the database, so the write runs on its own.
            write = asyncio.create_task(self.account.record_ivr(info, outcome, started))
            self._writes.add(write)
            write.add_done_callback(self._writes.discard)

    def _ami_status(self, up: bool, detail: str) -> None:
        log.info("AMI link %s%s", "up" if up else "down", f": {detail}" if detail else "")

    async def start(self) -> None:
        await self.agi.start()
        if self.account is not None:
            self.ami.add_handler(self.account.handle_event)
        await self.ami.start(wait=False)
        log.info(
            "controller up: FastAGI on %s:%s, AMI to %s:%s",
            self.config.asterisk.agi_host,
            self.agi.port,
            self.config.asterisk.ami_host,
            self.config.asterisk.ami_port,
        )

    async def close(self) -> None:
        await self.agi.close()
        await self.ami.close()
        if self._writes:  # IVR outcomes still being written: let them land in the account
            await asyncio.gather(*self._writes)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


@dataclass(frozen=True, slots=True)
class Running:
    """Everything :func:`running` started, for the demo, the web app and the tests."""

    controller: Controller
    tracker: CallTracker
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def running(
    config: ClinicConfig,
    *,
    db_url: str | None = None,
    queue_log: str | Path | None = None,
    now: Clock = utc_now,
) -> AsyncIterator[Running]:
    """The store (migrated to head), the call tracker, the keeper of the reports' hourly sums
    and the controller, started in order."""
    from clinicall.db import create_engine, session_factory, upgrade

    url = db_url or config.database.url
    _make_sqlite_dir(url)
    await upgrade(url)
    async with AsyncExitStack() as stack:
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        sessions = session_factory(engine)
        tracker = CallTracker(
            sessions,
            queue_log if queue_log is not None else config.asterisk.queue_log,
            TrackingConfig.from_clinic(config),
        )
        await tracker.start()
        stack.push_async_callback(tracker.close)
        # the account keeps real time (``now`` is the IVR's clock for opening hours)
        sums = HourlySumsKeeper(sessions, KpiSettings.from_config(config), clock=utc_now)
        await sums.start()
        stack.push_async_callback(sums.close)
        controller = await stack.enter_async_context(Controller(config, account=tracker, now=now))
        yield Running(controller, tracker, engine, sessions)


def _make_sqlite_dir(url: str) -> None:
    """``sqlite…:///var/clinicall.db``: create ``var/`` so a first run just works."""
    prefix, _, path = url.partition(":///")
    if prefix.startswith("sqlite") and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
