"""The controller: every call the engine hands over runs through the IVR, and its outcome and
the engine's facts go to the call account.

Engine-neutral: it is given an ``Engine`` (``controller.port``) and never learns which one.
``ivr`` and ``routing`` stay pure; the wiring (``clinicall.app``) builds the engine from the
clinic config and owns the lifetimes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from clinicall.calltypes import CallInfo, IvrOutcome
from clinicall.controller.facts import Fact
from clinicall.controller.port import Engine
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.port import CallPort
from clinicall.privacy import mask_number
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

    def handle_fact(self, fact: Fact) -> None:
        """Every live fact, in wire order; must not block (the tracker batches)."""
        ...


class Controller:
    """Runs the IVR for every call the engine hands over; see the module docstring."""

    def __init__(
        self,
        config: ClinicConfig,
        engine: Engine,
        *,
        account: CallAccount | None = None,
        now: Clock = utc_now,
    ) -> None:
        self.config = config
        self.engine = engine
        self.account = account
        self.now = now
        self.plan = IvrPlan.compile(config)
        self.calls_handled = 0
        self._handled = asyncio.Condition()  # announces each call the IVR is done with
        self._writes: set[asyncio.Task[None]] = set()

    async def ivr_session(self, port: CallPort) -> None:
        """One call through the IVR; its outcome goes to the call account.

        ``self.now`` is the clinic's clock for opening hours (the demo and tests pin it); the
        account always records the real time.
        """
        started = utc_now()
        outcome = await run_ivr(port, self.config, now=self.now, plan=self.plan)
        async with self._handled:
            self.calls_handled += 1
            self._handled.notify_all()
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
            # Returning ends the call's IVR session and the engine moves the caller on to its
            # queue: the patient must never wait for the database, so the write runs on its own
            # (owned here, awaited on close).
            write = asyncio.create_task(self.account.record_ivr(info, outcome, started))
            self._writes.add(write)
            write.add_done_callback(self._writes.discard)

    async def wait_written(self) -> None:
        """Until every IVR outcome handed to the account so far is written (or failed)."""
        if self._writes:
            await asyncio.wait(set(self._writes))

    async def wait_handled(self, count: int) -> None:
        """Until the IVR has finished ``count`` calls since the controller started."""
        async with self._handled:
            await self._handled.wait_for(lambda: self.calls_handled >= count)

    async def start(self) -> None:
        if self.account is not None:
            self.engine.subscribe(self.account.handle_fact)
        await self.engine.serve_calls(self.ivr_session)
        await self.engine.start()
        log.info("controller up on %s", self.engine.name)

    async def close(self) -> None:
        await self.engine.close()
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
