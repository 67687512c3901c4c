"""The in-queue callback offer's side of the engine and the store (docs/callbacks.md, "The
offer in the queue").

A caller who pressed the offer key has left the engine's queue; this desk tells the IVR's
offer flow (``ivr/callback_offer.py``) their place and estimated wait, stores every announced
estimate beside the engine's own (``wait_estimates``), checks the number and books the job.
It also gives the place of a caller about to join a queue that announces the wait
(``callbacks.announce_wait``).
The job's place is the instant the caller joined the queue, not the instant they pressed the
key, so the scheduler serves it after everyone who joined before and before everyone who
joined after (``routing/callback_order.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from clinicall.calltypes import CallInfo, QueuedCall
from clinicall.controller.callbacks.scheduler import (
    callback_waiters,
    free_members,
    kept_places,
    live_waiters,
)
from clinicall.controller.facts import MemberState
from clinicall.controller.port import EngineControl, EngineError, QueueStatus
from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import Call, CallbackReason
from clinicall.db.queue_history import NO_HISTORY, RecentQueues
from clinicall.db.wait_estimates import record_estimate
from clinicall.privacy import mask_number
from clinicall.routing.callable_numbers import NumberCheck, check_number
from clinicall.routing.callback_order import Waiter, WaiterKind, ahead_of, position
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.wait_estimate import (
    WaitRange,
    abandon_rate_per_s,
    estimate_wait_s,
    wait_range,
)
from clinicall.settings.models import ClinicConfig

log = logging.getLogger(__name__)

#: Pending callbacks read to place the caller among them (more than any line is long).
LINE_LIMIT = 500
#: Operators who cannot answer at all: they do not shorten the wait.
_ABSENT = (MemberState.OFFLINE, MemberState.UNKNOWN)


@dataclass(frozen=True, slots=True)
class OfferPlace:
    """What the offer announces: the 1-based place and the wait as a range (None: unknown)."""

    position: int | None
    wait: WaitRange | None


class CallbackOfferDesk:
    """See the module docstring.  ``clock``: real time (the store's instants)."""

    def __init__(self, control: EngineControl, store: CallbackStore, config: ClinicConfig, *,
                 clock: Callable[[], datetime], country_code: str,
                 history: RecentQueues | None = None) -> None:  # fmt: skip
        self.control, self.store, self.config = control, store, config
        self.clock, self.country_code = clock, country_code
        self.history = history  # None: no history (the configured handle time, no correction)

    def check(self, queue: str) -> Callable[[str | None], NumberCheck]:
        """The number policy of ``queue`` (``routing.callable_numbers``)."""
        policy = policy_for(self.config.callbacks, queue)

        def checked(raw: str | None) -> NumberCheck:
            return check_number(raw, country_code=self.country_code, countries=policy.countries,
                                blocked_prefixes=policy.blocked_prefixes)  # fmt: skip

        return checked

    async def place(self, info: CallInfo, queued: QueuedCall) -> OfferPlace:
        """The caller's place among the queue's live callers and pending callbacks, and the
        estimated wait; the estimate is stored with the engine's own (``wait_estimates``).
        An engine that cannot say its queue gives no place and stores nothing."""
        if queued.queued_at is None:  # no place to count from (the controller makes no offer)
            return OfferPlace(None, None)
        me = Waiter(WaiterKind.LIVE, info.channel_id, queued.queued_at, queued.priority)
        return await self._place(info, queued.queue, me)

    async def place_at_join(self, info: CallInfo, queue: str, priority: int) -> OfferPlace:
        """The place and estimated wait of a caller about to join ``queue``: behind everyone
        waiting now and every callback whose call came before (docs/callbacks.md, "Estimated
        wait"); stored like the offer's."""
        me = Waiter(WaiterKind.LIVE, info.channel_id, self.clock(), priority)
        return await self._place(info, queue, me)

    async def _place(self, info: CallInfo, queue: str, me: Waiter) -> OfferPlace:
        now = self.clock()
        try:
            statuses = await self.control.queue_status()
        except EngineError as error:
            log.warning("wait estimate on call %s: no queue status (%s)", info.call_id, error)
            return OfferPlace(None, None)
        status = next((s for s in statuses if s.queue == queue), None)
        live = [w for w in live_waiters(status, now, await kept_places(self.store, status))
                if w.key != info.channel_id]
        callbacks = callback_waiters(await self.store.line(queue, now, limit=LINE_LIMIT), now,
                                     self.config.callbacks)  # fmt: skip
        line = [*live, *callbacks, me]
        live_ahead, callbacks_ahead = ahead_of(me, line)
        recent = (await self.history.history(queue, now) if self.history is not None
                  else NO_HISTORY)  # fmt: skip
        estimate = estimate_wait_s(
            live_ahead=live_ahead, callbacks_ahead=callbacks_ahead,
            logged_in=_logged_in(status), free=len(free_members(status, set())),
            recent_handle_s=recent.handle_s,
            abandon_per_s=abandon_rate_per_s(recent.abandoned, recent.waited_s),
            default_handle_s=self.config.callbacks.default_handle_s)  # fmt: skip
        async with self.store.sessions.begin() as session:
            await record_estimate(session, call_key=info.call_id, queue=queue,
                                  announced_at=now, estimate_s=estimate,
                                  engine_estimate_s=status.holdtime_s if status else None)
        return OfferPlace(position(me, line), wait_range(estimate) if estimate is not None
                          else None)  # fmt: skip

    async def book(self, info: CallInfo, queued: QueuedCall, number: str, language: str) -> bool:
        """Store the job at the caller's place; whether it is stored.  A number that already
        has an open job in the queue keeps that one (one job per number and queue)."""
        now, joined = self.clock(), queued.queued_at
        if joined is None:  # no place to keep: never a job at the wrong place
            return False
        try:
            if any(j.queue == queued.queue for j in await self.store.open_jobs_of(number)):
                return True
            async with self.store.sessions() as session:
                origin = await session.scalar(select(Call.id).where(Call.call_key == info.call_id))
            job = await self.store.add_job(
                phone=number, queue=queued.queue, reason=CallbackReason.REQUESTED,
                arrived_at=joined, due_at=now, now=now, priority=queued.priority,
                origin_call_id=origin, language=language)  # fmt: skip
        except Exception:  # the store failed: the patient is told and keeps waiting
            log.exception("offer on call %s: callback to %s not stored", info.call_id,
                          mask_number(number))
            return False
        log.info("offer on call %s: callback job %s to %s", info.call_id, job,
                 mask_number(number))
        return True


def _logged_in(status: QueueStatus | None) -> int:
    if status is None:
        return 0
    return sum(1 for m in status.members if m.state not in _ABSENT)
