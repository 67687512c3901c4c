"""The callback scheduler: dials the store's due jobs through the engine port, exactly once.

One owned task runs rounds (every ``interval_s``, or at once when woken).  A round:

1. takes in the account's new missed calls (``intake``) and cancels the pending jobs of
   patients who got through since (``CallbackStore.settle_answered``);
2. for each queue with claimable jobs, asks the engine for the queue (``queue_status``, with
   its deadline) and lets the pure policy pick the callbacks to start
   (``routing.callback_order.callbacks_to_start``): never more than the free operators no
   callback holds, in strict arrival order against the live callers by default;
3. claims those jobs under a lease (``CallbackStore.claim``: ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL), commits each attempt's idempotency key, then sends the originate, agent
   first: the reserved operator is rung with a whisper, then the patient is dialled;
4. stores every attempt's outcome and the job's next state from
   ``routing.callback_retries.after_attempt`` (retries within the calling window, ``failed``
   when they are used up).

**Never dialled twice.**  An attempt whose key was committed and whose outcome is unknown (the
link was lost, the deadline passed, or this process died) is never sent again: the next
claim of its job, here or on another controller once the lease ran out, settles it from what
the engine recorded about its call (the account's row for the call id the key derives) and
only then may a *new* attempt, with a new key, follow per the retry policy.  When the engine
recorded nothing within ``resolve_after`` the attempt is stored as ``unknown`` and counts as
a failed try (docs/callbacks.md, "The scheduler").
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clinicall.controller.callbacks.intake import take_in_missed
from clinicall.controller.callbacks.reminders import FLOW, call_at, plan_reminders
from clinicall.controller.facts import (
    CALLBACK_PURPOSE,
    REMINDER_PURPOSE,
    Fact,
    MemberJoined,
    MemberPaused,
    MemberSeen,
    MemberState,
    QueueCompleted,
)
from clinicall.controller.port import (
    CALLBACK_ANSWERED,
    EngineControl,
    EngineError,
    EngineRefused,
    EngineTimeout,
    EngineUnavailable,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
    OutcomeUnknown,
    QueueMemberStatus,
    QueueStatus,
)
from clinicall.db.appointments import UNREACHED, AppointmentStore
from clinicall.db.callbacks import (
    UNKNOWN,
    AttemptRow,
    CallbackStore,
    JobRow,
    OperatorHeld,
    Settlement,
)
from clinicall.db.models import CallbackReason
from clinicall.privacy import mask_number
from clinicall.routing.callback_order import (
    Waiter,
    WaiterKind,
    callbacks_to_start,
    is_promoted,
)
from clinicall.routing.callback_policy import CallbackPolicy, policy_for, serving_queue
from clinicall.routing.callback_retries import NO_WINDOW, AttemptOutcome, after_attempt
from clinicall.routing.callback_schedule import earliest_call
from clinicall.routing.hours import OpeningHours
from clinicall.routing.patient_time import patient_zone
from clinicall.routing.reminder_schedule import ReminderTiming
from clinicall.settings.models import Callbacks, ClinicConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: The engine's reasons an originate failed → the attempt's outcome.
OUTCOMES = {OriginateCause.NO_ANSWER: AttemptOutcome.NO_ANSWER,
            OriginateCause.BUSY: AttemptOutcome.BUSY,
            OriginateCause.REJECTED: AttemptOutcome.REJECTED,
            OriginateCause.NO_ROUTE: AttemptOutcome.FAILED,
            OriginateCause.FAILED: AttemptOutcome.FAILED,
            OriginateCause.AGENT_MISSED: AttemptOutcome.OPERATOR_MISSED}  # fmt: skip
#: Stored on an attempt whose originate the engine never got (its link was down): the job
#: goes back to its place uncounted, like an operator who missed the whisper.
NOT_SENT = "not_sent"
#: Stored on an attempt never sent because the engine gave its reserved operator to a live
#: caller between the round's queue status and the reservation: back to its place, uncounted.
OPERATOR_TAKEN = "operator_taken"
#: The pause reason that reserves an operator for a callback (docs/callbacks.md, "Reserving
#: the operator"): the engine's queues ring no paused member, the originate rings them anyway.
RESERVE_REASON = "clinicall-callback"
#: How far back the live-caller share looks for a queue's last serves (its ``share_window``).
SERVES_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    """``owner``: this controller's name in the claims (unique per process).  ``lease`` must
    exceed the longest attempt (the operator's and the patient's ring time plus the engine's
    deadline)."""

    owner: str
    interval_s: float = 1.0
    lease: timedelta = timedelta(minutes=3)
    ring_timeout_s: float = 30.0
    resolve_after: timedelta = timedelta(minutes=5)
    intake_since: timedelta = timedelta(days=1)
    line_limit: int = 200
    caller_id: str = ""


def free_members(status: QueueStatus | None, reserved: set[str]) -> list[QueueMemberStatus]:
    """The queue's operators who can take a call now and that no callback holds, the ones
    who took the fewest calls first."""
    if status is None:
        return []
    free = [m for m in status.members
            if m.state == MemberState.IDLE and not m.paused and m.member not in reserved]
    return sorted(free, key=lambda m: (m.calls_taken, m.member))


def live_waiters(status: QueueStatus | None, now: datetime,
                 kept: Mapping[str, datetime] | None = None) -> list[Waiter]:  # fmt: skip
    """The queue's live callers in the line, each placed at their join instant: ``now``
    less the engine's wait, or the earlier first join ``kept`` holds for a caller who came
    back after declining an offer (``CallbackStore.kept_places``)."""
    if status is None:
        return []
    kept = kept or {}
    waiters = []
    for i, entry in enumerate(status.entries):
        joined = now - timedelta(seconds=entry.wait_s)
        first = kept.get(entry.channel_id)
        waiters.append(Waiter(WaiterKind.LIVE, entry.channel_id or f"live{i}",
                              min(joined, first) if first is not None else joined,
                              entry.priority))  # fmt: skip
    return waiters


def callback_waiters(jobs: Iterable[JobRow], now: datetime,
                     callbacks: Callbacks) -> list[Waiter]:  # fmt: skip
    """The pending callbacks in the line, each placed at its call's arrival and promoted
    ahead of it when its queue's policy says so (``routing.callback_order.is_promoted``)."""
    promote_after: dict[str | None, timedelta | None] = {}
    waiters = []
    for job in jobs:
        if job.queue not in promote_after:
            promote_after[job.queue] = policy_for(callbacks, job.queue).promote_after
        promoted = is_promoted(job.arrived_at, job.attempts > 0, now, promote_after[job.queue])
        waiters.append(Waiter(WaiterKind.CALLBACK, str(job.id), job.arrived_at, job.priority,
                              promoted))  # fmt: skip
    return waiters


async def kept_places(store: CallbackStore, status: QueueStatus | None,
                      ) -> dict[str, datetime]:  # fmt: skip
    """The first joins of the status's waiting callers who came back after an offer."""
    if status is None or not status.entries:
        return {}
    return await store.kept_places(status.queue, (e.channel_id for e in status.entries))


class CallbackScheduler:
    """See the module docstring.  ``call_id_for``: the engine's id of the call an
    idempotency key places (the engine adapter's), stored with the key before dialling."""

    def __init__(self, control: EngineControl, store: CallbackStore, config: ClinicConfig, *,
                 call_id_for: Callable[[str], str], clock: Clock, settings: SchedulerSettings,
                 country_code: str) -> None:  # fmt: skip
        self.control, self.store, self.config = control, store, config
        self.call_id_for, self.clock, self.settings = call_id_for, clock, settings
        self.country_code = country_code
        self.hours = OpeningHours.from_config(config.hours, config.clinic.zone)
        #: serves the jobs with no queue (``routing.callback_policy.serving_queue``)
        self.front_desk = config.routes[config.ivr.fallback_route].queue
        self.appointments = AppointmentStore(store.sessions)
        self.timing = ReminderTiming.from_config(config.reminders)
        self._task: asyncio.Task[None] | None = None
        self._attempts: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        #: look for operators left reserved (at start: by a controller that died mid-call;
        #: later: after an unpause the engine did not get), even with no job due
        self._sweep_due = True
        #: operators this scheduler paused for a callback and has not released yet
        self._held: set[str] = set()

    # ---- lifetime ----------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="callback-scheduler")

    async def close(self) -> None:
        """Stop the rounds; attempts still dialling are cancelled and stay open in the store
        (their keys are written), to be settled from the engine's facts by the next claim."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        for task in self._attempts:
            task.cancel()
        await asyncio.gather(*self._attempts, return_exceptions=True)

    def wake(self) -> None:
        """Run a round now (a missed call was written, an operator freed up)."""
        self._wake.set()

    def handle_fact(self, fact: Fact) -> None:
        """The engine's live facts (``Engine.subscribe``): a round starts at once when an
        operator may have come free (a queue call of theirs ended, they logged in, resumed,
        or show idle), so a callback at the head of the line takes them in their wrap-up,
        before the queue rings the next live caller (docs/callbacks.md, "Exact place")."""
        if isinstance(fact, QueueCompleted | MemberJoined) or (
                isinstance(fact, MemberPaused) and not fact.paused) or (
                isinstance(fact, MemberSeen) and fact.state == MemberState.IDLE
                and not fact.paused):  # fmt: skip
            self._wake.set()

    async def attempts_done(self) -> None:
        """Until every attempt this scheduler started has settled (tests, shutdown)."""
        while self._attempts:
            await asyncio.gather(*list(self._attempts), return_exceptions=True)

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:  # the store or the engine failed this round: try the next
                log.exception("callback round failed")
            try:
                async with asyncio.timeout(self.settings.interval_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    # ---- one round ---------------------------------------------------------------------

    async def run_once(self) -> list[int]:
        """One round (see the module docstring); the ids of the jobs it claimed."""
        now = self.clock()
        await take_in_missed(self.store, self.config, now=now, country_code=self.country_code,
                             since=self.settings.intake_since, hours=self.hours)  # fmt: skip
        await self.store.settle_answered(now)
        reminded = await self._remind(now) if self.config.reminders.enabled else []
        queues = sorted({serving_queue(q, self.front_desk)
                         for q in await self.store.queues_due(now)})  # fmt: skip
        if not queues and not self._sweep_due:
            return reminded
        try:
            statuses = {s.queue: s for s in await self.control.queue_status()}
        except EngineError as error:
            log.warning("callbacks wait: no queue status (%s)", error)
            return []
        awaiting: Counter[str] = Counter()  # claims whose operator no stored attempt shows
        for queue, count in (await self.store.claims_awaiting_operator(now)).items():
            awaiting[serving_queue(queue, self.front_desk)] += count
        # read after the statuses: an operator paused for an attempt begun meanwhile is in it
        reserved = await self.store.reserved_agents()
        self._sweep_due = False
        await self._release_stale(statuses.values(), reserved)
        claimed: list[int] = reminded
        for queue in queues:
            claimed += await self._serve(queue, statuses.get(queue), now, awaiting[queue],
                                         reserved)  # fmt: skip
        return claimed

    def _policy(self, job: JobRow) -> CallbackPolicy:
        return policy_for(self.config.callbacks, job.queue)

    def _window(self, job: JobRow, now: datetime) -> datetime | None:
        """The first instant at or after ``now`` the job may be dialled (None: never)."""
        zone = patient_zone(job.phone, self.config.clinic.zone)
        return earliest_call(now, hours=self.hours, patient_zone=zone, policy=self._policy(job))

    async def _serve(self, queue: str, status: QueueStatus | None, now: datetime,
                     awaiting: int, reserved: set[str]) -> list[int]:  # fmt: skip
        """Start the queue's callbacks that may start now.  ``awaiting``: the queue's claims
        (on any controller) whose operator no stored attempt holds yet: each will take one
        of the free operators the status shows."""
        line = await self.store.line(queue, now, limit=self.settings.line_limit,
                                     with_unqueued=queue == self.front_desk)
        unsettled = await self.store.open_attempts(j.id for j in line)
        ready: list[JobRow] = []
        for job in line:
            if job.id in unsettled:  # sent before and never settled: settle, never re-send
                for held in await self.store.claim([job.id], now):
                    self._spawn(self._resolve(held, unsettled[job.id]))
                continue
            window = self._window(job, now)
            if window is None:  # no calling window in the horizon: the job cannot be done
                for held in await self.store.claim([job.id], now):
                    await self.store.settle(held, None, outcome=NO_WINDOW, now=now,
                                            settlement=Settlement("failed", held.attempts,
                                                                  None, NO_WINDOW))
            elif window > now and job.state == "pending":
                await self.store.postpone(job.id, window)
            elif window > now:  # an expired claim outside the window: back to pending
                for held in await self.store.claim([job.id], now):
                    await self.store.release(held.id, due_at=window)
            else:
                ready.append(job)
        # held: chosen by this round for another queue (the status is the round's), or in flight
        members = free_members(status, reserved | self._held)
        callbacks = callback_waiters(ready, now, self.config.callbacks)
        share = self._policy(ready[0]).share if ready else None
        if share is None:
            return []
        recent = [WaiterKind(kind) for kind in await self.store.recent_serves(
            queue, since=now - SERVES_LOOKBACK, limit=share.window,
            with_unqueued=queue == self.front_desk)] if share.live_share > 0 else []  # fmt: skip
        live = live_waiters(status, now, await kept_places(self.store, status))
        starting = callbacks_to_start([*live, *callbacks],
                                      free_operators=len(members), recent=recent,
                                      callbacks_in_flight=awaiting, policy=share)
        # at most one job per operator: ``starting`` never outnumbers ``members``
        chosen = [member.member for member in members[:len(starting)]]
        for member in chosen:
            await self._hold(member)
        claimed = await self.store.claim([int(w.key) for w in starting], now)
        for member in chosen[len(claimed):]:  # jobs another controller claimed meanwhile
            await self._unreserve(member)
        for job, member in zip(claimed, chosen, strict=False):
            self._spawn(self._attempt(job, member))
        return [job.id for job in claimed]

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._attempts.add(task)
        task.add_done_callback(self._attempts.discard)

    # ---- reserving operators -----------------------------------------------------------

    async def _hold(self, member: str) -> None:
        """Pause ``member`` in every queue (``RESERVE_REASON``) the moment the round chose
        them, before the store's writes (the claim, the attempt's key), which may wait on
        the store: from here no queue rings them (docs/callbacks.md, "Reserving the
        operator").  A pause the engine did not take is retried by the reservation."""
        try:
            await self.control.queue_member_pause(member, paused=True, reason=RESERVE_REASON)
        except EngineError as error:
            log.warning("operator not held for a callback yet (%s)", error)
            return
        self._held.add(member)

    async def _reserve(self, job: JobRow, member: str) -> bool:
        """Whether ``member``, held by the round (:meth:`_hold`), is still idle now that the
        attempt is in the store, i.e. the engine did not ring them for a live caller since
        the round's status (with ``wrapup_s: 0`` app_queue may take an operator the instant
        a call ends).  Paused, no queue rings them, so the originate that follows is their
        only call.  A hold lost meanwhile (the pause failed, or another controller released
        it before this attempt was stored: unpaused) is paused again first.  Not reserved:
        unpaused."""
        try:
            seen = await self._member(job, member) if member in self._held else None
            if seen is None or not seen.paused:  # (FreeSWITCH's pause has no reason)
                await self.control.queue_member_pause(member, paused=True,
                                                      reason=RESERVE_REASON)  # fmt: skip
                self._held.add(member)
                seen = await self._member(job, member)
        except EngineError as error:
            log.warning("callback %s: operator not reserved (%s)", job.id, error)
            await self._unreserve(member)
            return False
        if seen is not None and seen.state == MemberState.IDLE:
            return True
        log.info("callback %s: operator taken by the queue meanwhile (%s); back to its place",
                 job.id, seen.state if seen is not None else "gone")
        await self._unreserve(member)
        return False

    async def _member(self, job: JobRow, member: str) -> QueueMemberStatus | None:
        """``member`` in the job's queue as the engine sees them now (None: not a member)."""
        queue = serving_queue(job.queue, self.front_desk)
        return next((m for s in await self.control.queue_status() if s.queue == queue
                     for m in s.members if m.member == member), None)  # fmt: skip

    async def _unreserve(self, member: str) -> None:
        self._held.discard(member)
        try:
            await self.control.queue_member_pause(member, paused=False)
        except EngineError as error:  # the next round's sweep unpauses them
            log.warning("operator still reserved after a callback (%s)", error)
            self._sweep_due = True

    async def _release_stale(self, statuses: Iterable[QueueStatus],
                             reserved: set[str]) -> None:  # fmt: skip
        """Unpause operators reserved for a callback that no attempt holds any more (a
        controller that died mid-call, or an unpause the engine did not get)."""
        stale = {m.member for s in statuses for m in s.members
                 if m.paused and m.pause_reason == RESERVE_REASON
                 and m.member not in reserved | self._held}  # fmt: skip
        for member in sorted(stale):
            log.info("operator %s: reservation of an ended callback released", member)
            await self._unreserve(member)

    # ---- reminders (docs/reminders.md) -------------------------------------------------

    async def _remind(self, now: datetime) -> list[int]:
        """Plan the reminders now within the lead time, then start the due ones, patient
        first (no operator is held); the ids of the jobs claimed."""
        await plan_reminders(self.appointments, self.config, now, hours=self.hours,
                             timing=self.timing)  # fmt: skip
        jobs = await self.store.claim_reminders(now, limit=self.settings.line_limit)
        unsettled = await self.store.open_attempts(j.id for j in jobs)
        for job in jobs:
            await self._remind_one(job, unsettled.get(job.id), now)
        return [job.id for job in jobs]

    async def _remind_one(self, job: JobRow, unsettled: AttemptRow | None,
                          now: datetime) -> None:  # fmt: skip
        appointment = await self.appointments.of_job(job.id)
        if unsettled is not None:  # sent before: the flow's stored answer says it was reached
            if appointment is not None and appointment.reminder_result is not None:
                await self._settle(job, unsettled, AttemptOutcome.ANSWERED.value,
                                   AttemptOutcome.ANSWERED, now)  # fmt: skip
            else:
                self._spawn(self._resolve(job, unsettled))
            return
        if appointment is None or appointment.state != "scheduled":  # answered or moved
            await self.store.settle(job, None, outcome="not_needed", now=now,
                                    settlement=Settlement("cancelled", job.attempts, None,
                                                          "not_needed"))  # fmt: skip
            return
        window = call_at(self.config, appointment, now, hours=self.hours, timing=self.timing)
        if window is None:  # no calling window before the appointment any more
            await self.store.settle(job, None, outcome=NO_WINDOW, now=now,
                                    settlement=Settlement("failed", job.attempts, None,
                                                          NO_WINDOW))  # fmt: skip
            await self.appointments.record_answer(appointment.id, UNREACHED, now)
        elif window > now:
            await self.store.release(job.id, due_at=window)
        else:
            data = {"appointment": str(appointment.id), "language": appointment.language}
            self._spawn(self._attempt(job, "", flow=FLOW, data=data,
                                      ring_s=float(self.config.reminders.ring_s)))

    # ---- one attempt -------------------------------------------------------------------

    async def _attempt(self, job: JobRow, agent: str, *, flow: str = "",
                       data: dict[str, str] | None = None,
                       ring_s: float | None = None) -> None:  # fmt: skip
        """One dialling: agent first (a callback) or, with ``flow``, patient first into that
        IVR flow (a reminder)."""
        try:
            attempt = await self.store.begin_attempt(job, call_id_for=self.call_id_for,
                                                     agent=agent or None, now=self.clock())
        except OperatorHeld:  # another controller's attempt holds them: theirs to release
            log.info("callback %s: operator held by another attempt; back to its place",
                     job.id)
            self._held.discard(agent)
            await self.store.release(job.id)
            return
        if attempt is None:  # the claim was lost meanwhile: nothing was sent
            if agent:
                await self._unreserve(agent)
            return
        # the account keeps a call clinicall placed out of the inbound KPIs (docs/kpi.md)
        placed = {"purpose": REMINDER_PURPOSE if flow else CALLBACK_PURPOSE, "dialled": job.phone}
        request = OriginateRequest(
            key=attempt.key, number=job.phone, queue=serving_queue(job.queue, self.front_desk),
            priority=job.priority,
            caller_id=self.settings.caller_id,
            ring_timeout_s=ring_s if ring_s is not None else self.settings.ring_timeout_s,
            data={**(data if data is not None else self._callback_data(job)), **placed},
            agent=agent, flow=flow)  # fmt: skip
        if agent and not await self._reserve(job, agent):
            outcome = AttemptOutcome.OPERATOR_MISSED
            await self._settle(job, attempt, OPERATOR_TAKEN, outcome, self.clock())
            return
        try:
            await self._dial(job, attempt, request)
        finally:
            if agent:
                await self._unreserve(agent)

    async def _dial(self, job: JobRow, attempt: AttemptRow, request: OriginateRequest) -> None:
        stored: str
        try:
            await self.control.originate(request)
            outcome = AttemptOutcome.ANSWERED
            stored = outcome.value
        except OriginateFailed as failed:
            outcome = OUTCOMES.get(failed.cause, AttemptOutcome.FAILED)
            stored = outcome.value
        except EngineUnavailable:
            outcome, stored = AttemptOutcome.OPERATOR_MISSED, NOT_SENT
        except (OutcomeUnknown, EngineTimeout) as error:
            log.warning("callback %s: attempt %s outcome unknown (%s); settled from the "
                        "engine's facts later, never re-sent", job.id, attempt.number, error)
            return
        except EngineRefused as error:
            log.warning("callback %s: originate refused (%s)", job.id, error)
            outcome, stored = AttemptOutcome.FAILED, AttemptOutcome.FAILED.value
        log.info("callback %s to %s: %s", job.id, mask_number(job.phone), stored)
        await self._settle(job, attempt, stored, outcome, self.clock())

    def _callback_data(self, job: JobRow) -> dict[str, str]:
        """The callback call's data: the job (whose whisper and greeting the IVR reads from
        the store, ivr.callback_call), why, and the patient's language."""
        data = {"callback": str(job.id), "reason": job.reason}
        if job.language:
            data["language"] = job.language
        return data

    async def _resolve(self, job: JobRow, attempt: AttemptRow) -> None:
        """Settle an attempt sent before (by this process before a restart, or another
        controller) from what the engine recorded about its call; never dial it again."""
        now = self.clock()
        record = await self.store.call_record(attempt.call_id)
        if record is not None:
            reached = record.connected or CALLBACK_ANSWERED in record.outcomes
            outcome = AttemptOutcome.ANSWERED if reached else AttemptOutcome.NO_ANSWER
            await self._settle(job, attempt, outcome.value, outcome, now)
        elif now - attempt.started_at >= self.settings.resolve_after:
            await self._settle(job, attempt, UNKNOWN, AttemptOutcome.FAILED, now)
        else:  # the engine's record may still arrive (the account reconciles it); the claim
            return  # stays until its lease runs out and the next claim looks again
        if attempt.agent:
            await self._free_operator(attempt.agent)

    async def _free_operator(self, member: str) -> None:
        """Unpause the operator of an attempt settled here but sent before (by a controller
        that died, or by this process before a restart), unless another attempt in progress
        holds them: its reservation would otherwise stay, and on FreeSWITCH for good, since
        a break there carries no reason by which the sweep (``_release_stale``) could know it
        for a reservation (docs/callbacks.md, "Reserving the operator")."""
        if member in self._held or member in await self.store.reserved_agents():
            return
        log.info("operator %s: reservation of a settled callback released", member)
        await self._unreserve(member)

    async def _settle(self, job: JobRow, attempt: AttemptRow, stored: str,
                      outcome: AttemptOutcome, now: datetime) -> None:  # fmt: skip
        zone = patient_zone(job.phone, self.config.clinic.zone)
        step = after_attempt(outcome, attempts_before=job.attempts, now=now, hours=self.hours,
                             patient_zone=zone, policy=self._policy(job))  # fmt: skip
        settlement = Settlement(step.state.value, step.attempts, step.due_at, step.result)
        await self.store.settle(job, attempt, outcome=stored, settlement=settlement, now=now)
        if job.reason == CallbackReason.REMINDER.value and settlement.state == "failed":
            appointment = await self.appointments.of_job(job.id)
            if appointment is not None:  # every try went unanswered
                await self.appointments.record_answer(appointment.id, UNREACHED, now)
