"""The product's callback scheduler on the simulated day, driven in virtual time.

``controller.callbacks.CallbackScheduler`` runs unchanged: the day's store, the fake engine's
control port (``simclinic.sim_control``) and the day's virtual clock are injected, as
``clinicall.app`` injects the real ones.  Only its loop is not used: a round every wall second
would be a round every simulated second, 86,400 of them.  The run calls ``run_once`` itself,
at the instants a round can do something, the ones the live controller wakes it for
(``CallbackScheduler.wake``: a missed call was written, an operator freed up) and a job's due
time:

- an inbound call ended missed (its channel closed unanswered, not self-served), once the
  account wrote it: the intake decides it in that round;
- an operator of a queue with a job due became free to a callback (the talk or the wrap-up of
  their call ended, a log-in, an unpause);
- a pending job came due (a retry, or the first attempt of a call missed before the calling
  window, at the window's next instant).

Between rounds nothing the scheduler reads changes but through these, so no round is missed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.db.callbacks import CallbackStore
from clinicall.routing.callback_policy import serving_queue
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.day import SimPatient
from clinicall.simclinic.floor import Floor
from clinicall.simclinic.sim_control import SimControl

#: The scheduler's name in its claims (one scheduler: nobody else claims).
OWNER = "simulated-day"


class DayCallbacks:
    """The scheduler, its control port and what tells the run when a round is due."""

    def __init__(self, config: ClinicConfig, floor: Floor, *, clock: Callable[[], datetime],
                 now_ms: Callable[[], int], sessions: async_sessionmaker[AsyncSession],
                 patients: Mapping[str, SimPatient], call_prefix: str) -> None:  # fmt: skip
        caller_id = config.numbers[0].number

        def call_id_for(key: str) -> str:
            return f"{call_prefix}-{key}"

        self.control = SimControl(floor, now_ms, patients=patients, call_id_for=call_id_for,
                                  caller_id=caller_id)  # fmt: skip
        settings = SchedulerSettings(owner=OWNER, caller_id=caller_id)
        self.store = CallbackStore(sessions, owner=OWNER, lease=settings.lease)
        self.scheduler = CallbackScheduler(
            self.control, self.store, config, call_id_for=call_id_for, clock=clock,
            settings=settings, country_code=TrackingConfig.from_clinic(config).country_code)
        self.front_desk = config.routes[config.ivr.fallback_route].queue
        self.rounds = 0
        self._last: datetime | None = None  # the last round's instant
        self._pending: list[tuple[datetime, str]] = []  # (due, serving queue)

    def wanted(self, now: datetime, *, missed: bool, freed: set[str]) -> bool:
        """Whether a round at ``now`` may do something: a missed call was written, an
        operator freed up in a queue with a job due, or a job came due since the last
        round."""
        return missed or any(due <= now and (queue in freed or self._last is None
                                             or due > self._last)
                             for due, queue in self._pending)  # fmt: skip

    def next_due(self, after: datetime) -> datetime | None:
        """The next instant after ``after`` a pending job comes due."""
        return min((due for due, _ in self._pending if due > after), default=None)

    async def round(self) -> None:
        """One round of the scheduler now; back once every job it claimed is dialled (each
        originate waits for its outcome in virtual time)."""
        before = self.control.dialled
        claimed = await self.scheduler.run_once()
        self.rounds += 1
        self._last = self.scheduler.clock()
        await self.control.wait_dialled(before + len(claimed))
        await self._refresh()

    async def settle(self) -> None:
        """Let the attempts whose outcome came finish: their jobs' next states stored."""
        if self.control.woken:
            await self.control.settle_woken()
            await self._refresh()

    async def close(self) -> None:
        await self.scheduler.attempts_done()

    async def _refresh(self) -> None:
        jobs = await self.store.jobs(states=["pending"], limit=100_000)
        self._pending = [(job.due_at, serving_queue(job.queue, self.front_desk))
                         for job in jobs]  # fmt: skip


def at_or_after(moment: datetime, start: datetime) -> int:
    """``moment`` as whole milliseconds from ``start``, rounded up (a due time is never
    reached early)."""
    delta = moment - start
    return -(-delta // timedelta(milliseconds=1))
