"""The callback scheduler against a scripted engine control, on SQLite and PostgreSQL: intake
of missed calls, agent first, strict order against live callers, retries, the calling window,
cancellation by an answered call, and no attempt ever sent twice across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from callback_fakes import (
    ANNA,
    QUEUE,
    TUESDAY_10_KYIV,
    TUESDAY_21_KYIV,
    WEDNESDAY_OPENING,
    Clock,
    ScriptedControl,
    Sessions,
    add_due_jobs,
    call_id_for,
    example_config,
    scheduler,
    write_call,
    write_ivr_miss,
)
from sqlalchemy import select

from clinicall.controller.callbacks.scheduler import OPERATOR_TAKEN, RESERVE_REASON
from clinicall.controller.facts import (
    Fact,
    HungUpBy,
    MemberJoined,
    MemberPaused,
    MemberSeen,
    MemberState,
    QueueCompleted,
)
from clinicall.controller.port import (
    CALLBACK_ANSWERED,
    OriginateCause,
    OriginateFailed,
    OutcomeUnknown,
    QueueEntryStatus,
    QueueStatus,
)
from clinicall.db import JournalEntry, insert_journal
from clinicall.db.callbacks import CallbackStore, JobRow
from clinicall.db.models import (
    Call,
    CallbackIntake,
    Direction,
    JournalSource,
    QueueAttempt,
    QueueOutcome,
)
from clinicall.db.writer import StoreWriter

T0 = TUESDAY_10_KYIV


async def test_a_missed_call_is_called_back_once_agent_first(db_sessions: Sessions) -> None:
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl()
    first = await write_call(db_sessions, "m1", T0)
    await write_call(db_sessions, "m2", T0 + timedelta(minutes=1))  # the same number again
    cbs = scheduler(db_sessions, control, clock)
    claimed = await cbs.run_once()
    await cbs.attempts_done()
    [job] = await cbs.store.jobs()
    assert claimed == [job.id]
    assert (job.phone, job.queue, job.arrived_at, job.origin_call_id) == (ANNA, QUEUE, T0, first)
    assert (job.state, job.attempts, job.result) == ("done", 1, "answered")
    [request] = control.sent
    assert (request.number, request.queue, request.agent) == (ANNA, QUEUE, "Local/op1@ops")
    assert request.key == f"cb{job.id}-1"
    assert request.data == {"callback": str(job.id), "reason": "missed",
                            "purpose": "callback", "dialled": ANNA}
    [attempt] = await cbs.store.attempts(job.id)
    assert (attempt.call_id, attempt.outcome) == (call_id_for(request.key), "answered")
    async with db_sessions() as session:
        decisions = (await session.scalars(select(CallbackIntake.action)
                                           .order_by(CallbackIntake.call_id))).all()
        returned = await session.scalar(select(Call.return_delay_ms).where(Call.id == first))
    assert decisions == ["create", "merge"]
    assert returned is not None  # the done callback returns the missed call in the reports
    assert await cbs.run_once() == []  # nothing left: no second dial
    assert len(control.sent) == 1


async def test_no_callback_passes_a_live_caller_who_came_first(db_sessions: Sessions) -> None:
    clock, control = Clock(T0 + timedelta(minutes=5)), ScriptedControl(members=1)
    await write_call(db_sessions, "m1", T0)
    control.entries = [QueueEntryStatus("live-1", wait_s=600.0)]  # waiting since before T0
    cbs = scheduler(db_sessions, control, clock)
    assert await cbs.run_once() == []  # the one free operator is the live caller's
    control.entries = [QueueEntryStatus("live-2", wait_s=60.0)]  # came after the patient
    assert len(await cbs.run_once()) == 1
    await cbs.attempts_done()
    assert len(control.sent) == 1


async def test_a_callback_late_for_its_target_passes_the_live_callers_when_promoted(
        db_sessions: Sessions) -> None:  # fmt: skip
    """``promote_after_min: 7``: the one free operator goes to the live caller who came first
    until the missed call is 7 minutes old, then to the callback (docs/callbacks.md, "Exact
    place")."""
    clock, control = Clock(T0 + timedelta(minutes=6)), ScriptedControl(members=1)
    await write_call(db_sessions, "m1", T0)
    control.entries = [QueueEntryStatus("live-1", wait_s=900.0)]  # waiting since before T0
    cbs = scheduler(db_sessions, control, clock, example_config(promote_after_min=7))
    assert await cbs.run_once() == []  # 6 minutes: the live caller's turn
    clock.at = T0 + timedelta(minutes=7)
    assert len(await cbs.run_once()) == 1
    await cbs.attempts_done()
    [request] = control.sent
    assert request.number == ANNA


async def test_a_caller_back_from_a_declined_offer_keeps_their_first_join(
        db_sessions: Sessions) -> None:  # fmt: skip
    """D joined at T0 - 1 min, left by the offer key, declined and came back: the engine's
    wait restarted (60 s at T0 + 5 min), but D's place is the first join, ahead of the
    patient whose call came at T0 (docs/callbacks.md, "Exact place")."""
    clock, control = Clock(T0 + timedelta(minutes=5)), ScriptedControl(members=1)
    await write_call(db_sessions, "m1", T0)
    control.entries = [QueueEntryStatus("ch-d", wait_s=60.0)]
    cbs = scheduler(db_sessions, control, clock)
    async with db_sessions.begin() as session, StoreWriter(session):
        call = Call(call_key="d", direction=Direction.INBOUND, caller="+380501239999",
                    started_at=T0 - timedelta(minutes=2), missed=False)
        call.queue_attempts.append(QueueAttempt(
            channel_id="ch-d", queue=QUEUE, joined_at=T0 - timedelta(minutes=1),
            outcome=QueueOutcome.EXIT_KEY, exit_key="1", wait_s=20.0,
            left_at=T0 - timedelta(seconds=40)))  # fmt: skip
        session.add(call)
    assert await cbs.store.kept_places(QUEUE, ["ch-d", "ch-other"]) == {
        "ch-d": T0 - timedelta(minutes=1)}
    assert await cbs.run_once() == []  # the one free operator is D's
    control.entries = []  # D was served
    assert len(await cbs.run_once()) == 1
    await cbs.attempts_done()
    assert len(control.sent) == 1


async def test_the_live_caller_share_counts_the_queues_last_serves(db_sessions: Sessions) -> None:
    """``live_share: 0.5`` over the last 4 serves.  A callback (its call came first) and a
    live caller wait for the one free operator.  After 4 live callers were served the share
    is met and the line's order holds: the callback starts.  After 4 callbacks reached
    their patients the live callers are owed the next serve: no callback starts, the live
    caller gets the operator."""
    config = example_config(live_share=0.5, share_window=4)
    now = T0 + timedelta(minutes=30)
    for i in range(4):  # live callers served in the last half hour
        await write_call(db_sessions, f"live{i}", T0 - timedelta(minutes=10 - i),
                         caller=f"+38050222222{i}", answered=True)  # fmt: skip
    await add_due_jobs(db_sessions, 1)  # arrived at T0
    control = ScriptedControl()
    control.entries = [QueueEntryStatus("live-now", wait_s=60.0)]  # came after the job
    cbs = scheduler(db_sessions, control, Clock(now), config)
    assert len(await cbs.run_once()) == 1
    await cbs.attempts_done()

    owed = ScriptedControl()  # the same after 4 callbacks that reached their patients
    owed.entries = [QueueEntryStatus("live-now", wait_s=60.0)]
    await add_due_jobs(db_sessions, 4, first=10)
    served = scheduler(db_sessions, owed, Clock(now), example_config(), owner="c2")
    for _ in range(4):
        owed.entries, waiting = [], owed.entries  # strict order, nobody live waiting
        assert len(await served.run_once()) == 1
        await served.attempts_done()
        owed.entries = waiting
    await add_due_jobs(db_sessions, 1, first=20)
    shared = scheduler(db_sessions, owed, Clock(now), config, owner="c3")
    assert await shared.run_once() == []  # the live caller is owed the operator


async def test_never_more_callbacks_than_free_operators(db_sessions: Sessions) -> None:
    clock, control = Clock(T0 + timedelta(minutes=5)), ScriptedControl(members=2)
    for i in range(4):
        await write_call(db_sessions, f"m{i}", T0 + timedelta(seconds=i),
                         caller=f"+38050111111{i}")  # fmt: skip
    cbs = scheduler(db_sessions, control, clock)
    control.hold = asyncio.Event()
    assert len(await cbs.run_once()) == 2
    assert await cbs.run_once() == []  # both operators are held by callbacks in flight
    control.hold.set()
    await cbs.attempts_done()
    assert sorted(r.agent for r in control.sent) == ["Local/op1@ops", "Local/op2@ops"]
    control.hold = None
    assert len(await cbs.run_once()) == 2
    await cbs.attempts_done()
    numbers = [r.number for r in control.sent]  # by arrival: the earlier two first
    assert sorted(numbers[:2]) == ["+380501111110", "+380501111111"]
    assert sorted(numbers[2:]) == ["+380501111112", "+380501111113"]


class TwoQueuesOneOperator(ScriptedControl):
    """The scripted queue and a second one, ``gynecology``, with the same operators."""

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        [status] = await super().queue_status()
        other = tuple(replace(m, queue="gynecology") for m in status.members)
        return status, replace(status, queue="gynecology", members=other, waiting=0,
                               entries=())  # fmt: skip


async def test_an_operator_of_two_queues_takes_one_callback_per_round(
    db_sessions: Sessions,
) -> None:
    """Both of the operator's queues have a callback due in the same round: the one chosen
    for the first queue is held, so the second queue's (read from the same status) waits."""
    clock, control = Clock(T0 + timedelta(minutes=5)), TwoQueuesOneOperator()
    await write_call(db_sessions, "m1", T0)
    await write_call(db_sessions, "m2", T0 + timedelta(seconds=1), caller="+380501111112",
                     queue="gynecology")  # fmt: skip
    cbs = scheduler(db_sessions, control, clock)
    control.hold = asyncio.Event()
    assert len(await cbs.run_once()) == 1
    control.hold.set()
    await cbs.attempts_done()
    assert [r.agent for r in control.sent] == ["Local/op1@ops"]


async def test_a_claim_still_choosing_its_operator_counts_against_its_own_queue(
    db_sessions: Sessions,
) -> None:
    """Another controller holds an operator of one queue (its attempt stored) and has just
    claimed a job of a second queue, whose operator it has not reserved yet: that claim takes
    the second queue's one free operator, so this controller starts no callback there (the
    other queue's reservation does not make room in this one)."""
    await add_due_jobs(db_sessions, 1, queue="ultrasound")
    await add_due_jobs(db_sessions, 2, queue="gynecology", first=1)
    now = T0 + timedelta(minutes=1)
    other = CallbackStore(db_sessions, owner="other", lease=timedelta(minutes=3))
    jobs = sorted(await other.jobs(), key=lambda j: j.id)
    [ultrasound] = await other.claim([jobs[0].id], now)
    assert await other.begin_attempt(ultrasound, call_id_for=call_id_for,
                                     agent="Local/op9@ops", now=now) is not None
    assert len(await other.claim([jobs[1].id], now)) == 1  # gynecology's, no operator yet
    control = TwoQueuesOneOperator()  # op1, free, in both queues
    cbs = scheduler(db_sessions, control, Clock(now), owner="me")
    assert await cbs.run_once() == []
    assert control.sent == []


class StatusRace(TwoQueuesOneOperator):
    """Two queues sharing one operator, whose first two status reads wait for each other:
    two controllers see the same free operator before either holds them."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier: asyncio.Barrier | None = asyncio.Barrier(2)

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        status = await super().queue_status()
        if (barrier := self.barrier) is not None:
            if barrier.n_waiting:  # the second read: both go on
                self.barrier = None
            await barrier.wait()
        return status


def _signalling(release: Callable[..., Awaitable[None]],
                done: asyncio.Event) -> Callable[..., Awaitable[None]]:  # fmt: skip
    async def wrapped(*args: Any, **kwargs: Any) -> None:
        await release(*args, **kwargs)
        done.set()
    return wrapped


async def test_two_controllers_that_chose_the_same_operator_dial_them_once(
    db_sessions: Sessions,
) -> None:
    """Two controllers' rounds read the queues at the same instant and see their one shared
    operator free; the first queue's job goes to one of them, and the other, having lost that
    claim, chooses the same operator for the second queue's job.  Only one attempt may hold
    the operator, so only one is dialled; the other job goes back to its place, uncounted,
    and is dialled once the operator is free."""
    await write_call(db_sessions, "m1", T0)
    await write_call(db_sessions, "m2", T0 + timedelta(seconds=1), caller="+380501111112",
                     queue="gynecology")  # fmt: skip
    control, clock = StatusRace(), Clock(T0 + timedelta(minutes=5))
    first = scheduler(db_sessions, control, clock, owner="controller-1")
    second = scheduler(db_sessions, control, clock, owner="controller-2")
    released = asyncio.Event()  # a claim given back without an attempt, on either
    for store in (first.store, second.store):
        store.release = _signalling(store.release, released)  # type: ignore[method-assign,assignment]
    control.hold = asyncio.Event()
    claimed = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(len(c) for c in claimed) == [1, 1]  # both jobs claimed, for one operator
    await control.started.wait()  # one attempt dials and is held there ...
    await asyncio.wait_for(released.wait(), 10)  # ... while the other's job goes back
    assert [r.agent for r in control.sent] == ["Local/op1@ops"]  # one dial, not two
    control.hold.set()
    await asyncio.gather(first.attempts_done(), second.attempts_done())
    jobs = await first.store.jobs()
    assert sorted((j.state, j.attempts) for j in jobs) == [("done", 1), ("pending", 0)]
    control.hold = None
    assert len(await second.run_once() + await first.run_once()) == 1
    await asyncio.gather(first.attempts_done(), second.attempts_done())
    assert [r.agent for r in control.sent] == ["Local/op1@ops"] * 2
    assert {j.state for j in await first.store.jobs()} == {"done"}


async def test_the_operator_is_reserved_by_a_pause_while_the_callback_rings(
    db_sessions: Sessions,
) -> None:
    """No queue may ring the reserved operator for a live caller while the callback holds
    them: paused (``RESERVE_REASON``) before the originate, unpaused once it ended."""
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl()
    await write_call(db_sessions, "m1", T0)
    cbs = scheduler(db_sessions, control, clock)
    control.hold = asyncio.Event()
    await cbs.run_once()
    await control.started.wait()  # the originate is in flight
    [member] = control.members
    assert (member.paused, member.pause_reason) == (True, RESERVE_REASON)
    control.hold.set()
    await cbs.attempts_done()
    assert control.pauses == [("Local/op1@ops", True, RESERVE_REASON),
                              ("Local/op1@ops", False, "")]  # fmt: skip
    assert not control.members[0].paused


async def test_the_operator_is_held_before_the_store_writes_the_claim(
    db_sessions: Sessions,
) -> None:
    """The round pauses the operator it chose before the claim and the attempt's key are
    written (those may wait on the store while app_queue could ring them), and the attempt
    then pauses nobody twice."""
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl()
    await write_call(db_sessions, "m1", T0)
    cbs = scheduler(db_sessions, control, clock)
    pauses_at_claim: list[list[tuple[str, bool, str]]] = []
    claim = cbs.store.claim

    async def claim_seeing_the_pauses(job_ids: Sequence[int], now: datetime) -> list[JobRow]:
        pauses_at_claim.append(list(control.pauses))
        return await claim(job_ids, now)

    cbs.store.claim = claim_seeing_the_pauses  # type: ignore[method-assign]
    [job_id] = await cbs.run_once()
    await cbs.attempts_done()
    assert pauses_at_claim == [[("Local/op1@ops", True, RESERVE_REASON)]]
    assert control.pauses == [("Local/op1@ops", True, RESERVE_REASON),
                              ("Local/op1@ops", False, "")]  # fmt: skip
    assert [r.key for r in control.sent] == [f"cb{job_id}-1"]


async def test_an_operator_held_for_a_job_claimed_elsewhere_is_released(
    db_sessions: Sessions,
) -> None:
    """Another controller claims the job between this round's choice and its claim: the
    operator held for it is unpaused and nothing is dialled."""
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl()
    await write_call(db_sessions, "m1", T0)
    cbs = scheduler(db_sessions, control, clock)
    other = scheduler(db_sessions, ScriptedControl(), clock, owner="c2")
    claim = cbs.store.claim

    async def claimed_elsewhere_first(job_ids: Sequence[int], now: datetime) -> list[JobRow]:
        assert await other.store.claim(job_ids, now)
        return await claim(job_ids, now)

    cbs.store.claim = claimed_elsewhere_first  # type: ignore[method-assign]
    assert await cbs.run_once() == []
    await cbs.attempts_done()
    assert control.sent == []
    assert control.pauses == [("Local/op1@ops", True, RESERVE_REASON),
                              ("Local/op1@ops", False, "")]  # fmt: skip
    assert not control.members[0].paused


async def test_an_operator_the_queue_took_meanwhile_is_not_dialled(db_sessions: Sessions) -> None:
    """With no wrap-up the engine may give the operator the round saw free to a live caller
    before the callback's originate: the reservation finds them ringing, nothing is dialled,
    the operator is unpaused and the job keeps its place, the try not counted."""
    clock, control = Clock(T0 + timedelta(minutes=2)), ScriptedControl()
    await write_call(db_sessions, "m1", T0)
    cbs = scheduler(db_sessions, control, clock)
    control.taken = {"Local/op1@ops"}
    [job_id] = await cbs.run_once()
    await cbs.attempts_done()
    assert control.sent == []
    [job] = await cbs.store.jobs()
    assert (job.id, job.state, job.attempts, job.due_at) == (job_id, "pending", 0, clock.at)
    assert [a.outcome for a in await cbs.store.attempts(job.id)] == [OPERATOR_TAKEN]
    assert control.pauses[-1] == ("Local/op1@ops", False, "")
    # the live caller's call ends: the operator is free again and the callback goes out
    control.taken.clear()
    control.members = [replace(m, state=MemberState.IDLE) for m in control.members]
    assert await cbs.run_once() == [job.id]
    await cbs.attempts_done()
    [request] = control.sent
    assert request.key == f"cb{job.id}-2"  # a new key: the first was never sent
    [job] = await cbs.store.jobs()
    assert (job.state, job.attempts) == ("done", 1)


async def test_an_operator_left_reserved_by_a_dead_controller_is_released(
    db_sessions: Sessions,
) -> None:
    """A controller that died mid-callback left its operator paused for the callback; no
    attempt holds them: the next scheduler's first round unpauses them, even with no job due.
    An operator paused for another reason is left alone."""
    clock, control = Clock(T0), ScriptedControl(members=2)
    control.members = [replace(control.members[0], paused=True, pause_reason=RESERVE_REASON),
                       replace(control.members[1], paused=True, pause_reason="lunch")]
    cbs = scheduler(db_sessions, control, clock)
    assert await cbs.run_once() == []
    assert control.pauses == [("Local/op1@ops", False, "")]
    assert await cbs.run_once() == []  # no job due and the sweep done: nothing paused again
    assert len(control.pauses) == 1


class ReasonlessPauses(ScriptedControl):
    """An engine whose pause carries no reason (FreeSWITCH's ``On Break``)."""

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:  # fmt: skip
        await super().queue_member_pause(member, paused=paused, reason="", queue=queue)


async def test_an_operator_reserved_by_a_controller_that_died_is_released_with_its_attempt(
    db_sessions: Sessions,
) -> None:
    """On an engine whose pause has no reason the sweep cannot tell a reservation from a
    break: a controller that died mid-callback left its operator on break; the next claim of
    the job settles the attempt (the engine recorded nothing: ``unknown``) and releases them."""
    clock, control = Clock(T0 + timedelta(minutes=2)), ReasonlessPauses()
    await write_call(db_sessions, "m1", T0)
    dead = scheduler(db_sessions, control, clock, owner="dead")
    control.hold = asyncio.Event()  # its originate never returns: it died there
    assert len(await dead.run_once()) == 1
    await control.started.wait()
    assert [(m.paused, m.pause_reason) for m in control.members] == [(True, "")]
    clock.at += timedelta(minutes=10)  # past the lease and resolve_after
    live = scheduler(db_sessions, control, clock, owner="live")
    await live.run_once()
    await live.attempts_done()
    [job] = await live.store.jobs()
    [attempt] = await live.store.attempts(job.id)
    assert (attempt.owner, attempt.outcome) == ("dead", "unknown")
    assert [m.paused for m in control.members] == [False]  # released with its attempt
    assert len(control.sent) == 1  # never dialled again
    control.hold.set()  # (the dead controller's task, for the test's own cleanup)
    await dead.attempts_done()


async def test_an_unanswered_callback_is_retried_per_policy_then_failed(
    db_sessions: Sessions,
) -> None:
    clock, control = Clock(T0 + timedelta(minutes=1)), ScriptedControl()
    await write_call(db_sessions, "m1", T0)
    control.script = [OriginateFailed("Originate", OriginateCause.NO_ANSWER),
                      OriginateFailed("Originate", OriginateCause.BUSY)]  # fmt: skip
    cbs = scheduler(db_sessions, control, clock, example_config(attempts=2, spacing_min=5))
    await cbs.run_once()
    await cbs.attempts_done()
    [job] = await cbs.store.jobs()
    assert (job.state, job.attempts, job.due_at) == ("pending", 1, clock.at + timedelta(minutes=5))
    clock.at += timedelta(minutes=4)
    assert await cbs.run_once() == []  # not due yet
    clock.at += timedelta(minutes=1)
    await cbs.run_once()
    await cbs.attempts_done()
    [job] = await cbs.store.jobs()
    assert (job.state, job.attempts, job.result) == ("failed", 2, "busy")
    assert [a.outcome for a in await cbs.store.attempts(job.id)] == ["no_answer", "busy"]
    assert [r.key for r in control.sent] == [f"cb{job.id}-1", f"cb{job.id}-2"]


async def test_a_call_missed_after_hours_waits_for_the_next_opening(db_sessions: Sessions) -> None:
    clock, control = Clock(TUESDAY_21_KYIV + timedelta(minutes=1)), ScriptedControl()
    await write_call(db_sessions, "m1", TUESDAY_21_KYIV)
    cbs = scheduler(db_sessions, control, clock)
    assert await cbs.run_once() == []
    [job] = await cbs.store.jobs()
    assert (job.state, job.due_at) == ("pending", WEDNESDAY_OPENING)
    clock.at = WEDNESDAY_OPENING - timedelta(seconds=1)
    assert await cbs.run_once() == []
    clock.at = WEDNESDAY_OPENING
    assert await cbs.run_once() == [job.id]
    await cbs.attempts_done()
    assert len(control.sent) == 1


async def test_a_call_missed_before_any_queue_is_called_back_by_the_front_desk(
    db_sessions: Sessions,
) -> None:
    """After hours the IVR sends no one to a queue: the job has none, and at the next opening
    it is served through the front desk (the fallback route's queue) and its operator."""
    config = example_config()
    front_desk = config.routes[config.ivr.fallback_route].queue
    clock = Clock(TUESDAY_21_KYIV + timedelta(minutes=1))
    control = ScriptedControl(queue=front_desk)
    call = await write_ivr_miss(db_sessions, "late", TUESDAY_21_KYIV)
    cbs = scheduler(db_sessions, control, clock, config)
    assert await cbs.run_once() == []
    [job] = await cbs.store.jobs()
    assert (job.queue, job.origin_call_id, job.state) == (None, call, "pending")
    clock.at = WEDNESDAY_OPENING
    assert await cbs.run_once() == [job.id]
    await cbs.attempts_done()
    [request] = control.sent
    assert (request.number, request.queue, request.agent) == (ANNA, front_desk, "Local/op1@ops")
    assert (await cbs.store.job(job.id) or job).state == "done"


async def test_a_job_with_no_queue_keeps_its_place_in_the_front_desks_line(
    db_sessions: Sessions,
) -> None:
    """One front desk operator; a patient missed at the front desk in the morning (written
    first) and one who called the evening before, after hours: the evening's is served
    first (the earlier arrival), then the morning's."""
    config = example_config()
    front_desk = config.routes[config.ivr.fallback_route].queue
    morning = WEDNESDAY_OPENING + timedelta(minutes=1)
    clock = Clock(WEDNESDAY_OPENING + timedelta(minutes=20))
    control = ScriptedControl(queue=front_desk)
    await write_call(db_sessions, "desk", morning, caller="+380501111112", queue=front_desk)
    await write_ivr_miss(db_sessions, "late", TUESDAY_21_KYIV)
    cbs = scheduler(db_sessions, control, clock, config)
    control.hold = asyncio.Event()
    assert len(await cbs.run_once()) == 1
    assert await cbs.run_once() == []  # the one operator is held by the first callback
    control.hold.set()
    await cbs.attempts_done()
    control.hold = None
    assert len(await cbs.run_once()) == 1
    await cbs.attempts_done()
    assert [r.number for r in control.sent] == [ANNA, "+380501111112"]
    assert {job.queue for job in await cbs.store.jobs()} == {None, front_desk}


async def test_a_patient_who_got_through_is_not_called_back(db_sessions: Sessions) -> None:
    clock, control = Clock(T0 + timedelta(minutes=1)), ScriptedControl(members=0)
    await write_call(db_sessions, "m1", T0)
    cbs = scheduler(db_sessions, control, clock)
    await cbs.run_once()  # the job waits: no operator
    await write_call(db_sessions, "a1", T0 + timedelta(minutes=2), answered=True)
    await cbs.run_once()
    [job] = await cbs.store.jobs()
    assert (job.state, job.result) == ("cancelled", "called_in")
    assert control.sent == []


async def _write_reminder_call(sessions: Sessions, key: str, at: datetime, *,
                               to_operator: bool) -> None:
    """A reminder call clinicall placed to Anna (outbound, ``dialled`` her number, as the
    account stores it since migration 0017); ``to_operator``: she pressed 0 and an operator
    answered her in the specialty's queue, else she confirmed by key and hung up."""
    async with sessions.begin() as session, StoreWriter(session) as writer:
        call = Call(call_key=key, direction=Direction.OUTBOUND, caller="+380441234567",
                    dialled=ANNA, purpose="reminder", started_at=at, answered_at=at,
                    ended_at=at + timedelta(minutes=3), missed=False)  # fmt: skip
        if to_operator:
            call.queue_attempts.append(QueueAttempt(
                channel_id=f"{key}-ch", queue=QUEUE, joined_at=at + timedelta(seconds=40),
                connected_at=at + timedelta(seconds=50), left_at=at + timedelta(minutes=3),
                outcome=QueueOutcome.ANSWERED))
        session.add(call)
        writer.call_changed(Direction.OUTBOUND, call.caller, ANNA, at, [])


async def test_a_reminder_answered_by_an_operator_settles_the_patients_callbacks(
    db_sessions: Sessions,
) -> None:
    """docs/reminders.md: a patient who pressed 0 in a reminder and was answered got through;
    her pending callback is cancelled like after an inbound call.  A reminder she only
    confirmed by key reached no operator and leaves the callback pending."""
    clock, control = Clock(T0 + timedelta(minutes=1)), ScriptedControl(members=0)
    await write_call(db_sessions, "m1", T0)
    cbs = scheduler(db_sessions, control, clock)
    await cbs.run_once()  # the job waits: no operator
    await _write_reminder_call(db_sessions, "r1", T0 + timedelta(minutes=2), to_operator=False)
    await cbs.run_once()
    [job] = await cbs.store.jobs()
    assert (job.state, job.result) == ("pending", None)
    await _write_reminder_call(db_sessions, "r2", T0 + timedelta(minutes=3), to_operator=True)
    await cbs.run_once()
    [job] = await cbs.store.jobs()
    assert (job.state, job.result) == ("cancelled", "called_in")
    assert control.sent == []


async def test_an_attempt_in_flight_at_a_crash_is_settled_from_the_engine_not_redialled(
    db_sessions: Sessions,
) -> None:
    clock, control = Clock(T0 + timedelta(minutes=1)), ScriptedControl()
    await write_call(db_sessions, "m1", T0)
    lease = timedelta(minutes=3)
    crashed = scheduler(db_sessions, control, clock, owner="before", lease=lease)
    control.script = [OutcomeUnknown("Originate", "link lost")]
    await crashed.run_once()
    await crashed.attempts_done()
    [job] = await crashed.store.jobs()
    [request] = control.sent
    assert job.state == "claimed"
    # the restarted controller: nothing while the lease holds, then the engine's record
    restarted = scheduler(db_sessions, control, clock, owner="after", lease=lease)
    assert await restarted.run_once() == []
    clock.at += lease + timedelta(seconds=1)
    await restarted.run_once()
    await restarted.attempts_done()
    [job] = await restarted.store.jobs()
    assert job.state == "claimed"  # the engine's record is not in the account yet: wait
    async with db_sessions.begin() as session:  # the engine's durable record, read back
        await insert_journal(session, [JournalEntry(
            key="cbmark-1", source=JournalSource.RECORD, at=clock.at, kind="call.data",
            payload={"v": 1, "call_id": call_id_for(request.key), "name": "outcome",
                     "value": CALLBACK_ANSWERED}, call_key=call_id_for(request.key))])
    clock.at += lease + timedelta(seconds=1)
    await restarted.run_once()
    await restarted.attempts_done()
    [job] = await restarted.store.jobs()
    assert (job.state, job.result) == ("done", "answered")
    assert control.sent == [request]  # dialled once, across the restart


async def test_an_attempt_the_engine_never_recorded_counts_as_unknown(
    db_sessions: Sessions,
) -> None:
    clock, control = Clock(T0 + timedelta(minutes=1)), ScriptedControl()
    await write_call(db_sessions, "m1", T0)
    control.script = [OutcomeUnknown("Originate", "link lost")]
    cbs = scheduler(db_sessions, control, clock)
    await cbs.run_once()
    await cbs.attempts_done()
    clock.at += timedelta(minutes=6)  # past the lease and resolve_after
    await cbs.run_once()
    await cbs.attempts_done()
    [job] = await cbs.store.jobs()
    [attempt] = await cbs.store.attempts(job.id)
    assert attempt.outcome == "unknown"
    assert (job.state, job.attempts) == ("pending", 1)  # retried later, with a new key
    assert len(control.sent) == 1


async def test_an_operator_who_may_have_come_free_starts_a_round_at_once(
        db_sessions: Sessions) -> None:  # fmt: skip
    """The engine's facts wake the scheduler (``clinicall.app`` subscribes it): a queue call
    that ended, a log-in, a resume, an idle phone; not a paused or busy one."""
    cbs = scheduler(db_sessions, ScriptedControl(), Clock(T0))
    op = "Local/op1@ops"
    wakes: list[Fact] = [
        QueueCompleted(key="k1", at=T0, call_id="c", channel_id="c", queue=QUEUE, member=op,
                       talk_ms=5000, hung_up_by=HungUpBy.AGENT),
        MemberJoined(key="k2", at=T0, queue=QUEUE, member=op),
        MemberPaused(key="k3", at=T0, queue=QUEUE, member=op, paused=False),
        MemberSeen(key="k4", at=T0, queue=QUEUE, member=op, state=MemberState.IDLE,
                   paused=False)]  # fmt: skip
    rests: list[Fact] = [
        MemberPaused(key="k5", at=T0, queue=QUEUE, member=op, paused=True),
        MemberSeen(key="k6", at=T0, queue=QUEUE, member=op, state=MemberState.IDLE,
                   paused=True),
        MemberSeen(key="k7", at=T0, queue=QUEUE, member=op, state=MemberState.IN_CALL,
                   paused=False)]  # fmt: skip
    for fact in [*wakes, *rests]:
        cbs._wake.clear()
        cbs.handle_fact(fact)
        assert cbs._wake.is_set() is (fact in wakes), fact
