"""The in-queue callback offer on the real Asterisk 22, end to end (docs/callbacks.md, "The
offer in the queue"; docs/engines/asterisk.md, "The in-queue callback offer").

One operator, paused.  X joins the front desk's queue; A joins after X, presses the offer key
while waiting, takes the callback on the number they call from and is hung up on; B and C
join after A.  The operator resumes: the engine serves X, then the callback scheduler (started
by ``clinicall.app.running``, real time) calls A back, agent first, then the engine serves B
and C.  The order is read from the engine's own record (queue_log: ``CONNECT`` of the live
callers, ``CLINICALLCB`` of the answered callback, in the order Asterisk wrote them), and A's
exit from ``EXITWITHKEY``; the account counts A's stay as an exit by key, not an abandon, and
the announced estimate is stored beside the queue's own figure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import Running, utc_now
from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.control import call_id_for
from clinicall.db.models import Call, CallbackReason, QueueAttempt, WaitEstimate
from clinicall.ivr import prompts
from clinicall.simclinic.calltrace import played_prompt
from clinicall.simclinic.clinic import SimulatedClinic

from .offer_common import (
    OPERATOR,
    QUEUE,
    TALK_S,
    offer_config,
    queue_log,
    queued,
    written_attempt,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    # app_queue's own position announcement at join loses a key pressed while it plays
    # (docs/engines/asterisk.md, "The in-queue callback offer"): the offer says the place
    async with SimulatedClinic.run(offer_config(announce_position=False), root=asterisk_root,
                                   name="offer") as clinic:  # fmt: skip
        yield clinic


@pytest.mark.timeout(300)  # four calls served one after another, each talked through
async def test_a_callback_taken_in_the_queue_keeps_the_patients_place(
    clinic: SimulatedClinic, app: Running
) -> None:
    assert app.callbacks is not None  # callbacks.enabled: the scheduler runs in real time
    callback = call_id_for("cb1-1")  # the first job of a fresh store, first attempt
    clinic.tracer.expect(callback)
    member = member_interface(OPERATOR, simulated=True)
    await app.engine.control.queue_member_pause(member, paused=True, reason="test")
    await clinic.set_operator(OPERATOR, "answer", ring_s=1, talk_s=TALK_S)

    x = await queued(clinic, "+380501230010")
    a = await queued(clinic, "+380501230011")
    await clinic.press(a, "1")  # the offer key while waiting: Queue() exits into the offer
    await clinic.tracer.wait_for_prompt(a, prompts.prompt_name("en", prompts.CALLBACK_OFFER),
                                        timeout=60)  # fmt: skip
    await clinic.press(a, "1")  # yes, call me back
    await clinic.tracer.wait_for_prompt(
        a, prompts.prompt_name("en", prompts.CALLBACK_SAME_NUMBER), timeout=30)
    await clinic.press(a, "1")  # on the number I call from
    trace_a = await clinic.finished(a, timeout=60)  # confirmed, then hung up by the offer
    assert prompts.prompt_name("en", prompts.CALLBACK_CONFIRMED) in trace_a.prompts_played
    b = await queued(clinic, "+380501230012")
    c = await queued(clinic, "+380501230013")

    await app.engine.control.queue_member_pause(member, paused=False)
    for linkedid in (x, b, c):
        await clinic.finished(linkedid, timeout=120)
    trace_cb = await clinic.finished(callback, timeout=60)

    # the callback call, as Asterisk played it: the whisper on the operator's channel (in
    # the clinic's language) before the patient was dialled, the greeting on the patient's
    # (in theirs) after they answered (docs/callbacks.md, "The callback call")
    lang = clinic.config.default_language
    whisper = [prompts.prompt_name(lang, key) for key in (
        prompts.callback_reason_key("requested"), prompts.callback_queue_key(QUEUE),
        prompts.callback_speaks_key("en"), prompts.CALLBACK_NUMBER_ENDS,
        prompts.CALLBACK_MINUTES_AGO)]  # fmt: skip
    greeting = prompts.prompt_name("en", prompts.CALLBACK_GREETING)
    assert trace_cb.prompts_played == [*whisper, greeting]
    played = {played_prompt(m): (i, m.get("Channel", "")) for i, m in enumerate(trace_cb.events)
              if played_prompt(m) is not None}  # fmt: skip
    dialled = next(i for i, m in enumerate(trace_cb.events) if m.get("Event") == "DialBegin")
    answered = next(i for i, m in enumerate(trace_cb.events)
                    if m.get("UserEvent") == "ClinicallCallback")  # fmt: skip
    assert all(played[w][0] < dialled for w in whisper)
    assert "@clinicall-originate" not in played[whisper[0]][1]
    assert played[greeting][0] > answered
    assert "@clinicall-originate" in played[greeting][1]

    # the engine's own record: who the operator was given, in the order Asterisk wrote it
    lines = queue_log(clinic)
    served = [f[1] for f in lines if len(f) > 4 and f[4] == "CONNECT" and f[2] == QUEUE]
    answered_callbacks = [f[5] for f in lines if len(f) > 6 and f[4] == "CLINICALLCB"
                          and f[6] == "ANSWER"]  # fmt: skip
    assert answered_callbacks == [callback]
    order = [f[1] if f[4] == "CONNECT" else "callback A" for f in lines
             if len(f) > 4 and ((f[4] == "CONNECT" and f[2] == QUEUE) or f[4] == "CLINICALLCB")]
    assert order == [x, "callback A", b, c], served
    exits = [f for f in lines if len(f) > 5 and f[4] == "EXITWITHKEY" and f[1] == a]
    assert [(f[2], f[5]) for f in exits] == [(QUEUE, "1")]

    # the job kept A's place: the instant A joined the queue, before B and after X
    [job] = await app.callbacks.store.jobs()
    assert (job.phone, job.queue, job.reason, job.state) == ("+380501230011", QUEUE,
                                                             "requested", "done")
    joined = {m.get("Uniqueid"): float(m["Timestamp"])
              for m in (clinic.tracer.trace(x).named("QueueCallerJoin")
                        + trace_a.named("QueueCallerJoin")
                        + clinic.tracer.trace(b).named("QueueCallerJoin"))}
    assert joined[x] < job.arrived_at.timestamp() < joined[b]
    assert abs(job.arrived_at.timestamp() - joined[a]) < 0.5

    # the account: A left the queue by the key (docs/kpi.md), not as an abandon
    attempt = await written_attempt(app, a)
    assert (attempt.outcome, attempt.exit_key) == ("exitkey", "1")
    async with app.sessions() as session:
        call = await session.scalar(select(Call).where(Call.call_key == a))
    assert call is not None
    assert (call.missed, call.miss_cause) == (True, "exitkey")  # until the callback returns it
    async with app.sessions() as session:
        estimates = list(await session.scalars(
            select(WaitEstimate).where(WaitEstimate.call_key == a)))
    assert [(e.queue, e.estimate_s is not None) for e in estimates] == [(QUEUE, True)]


async def test_a_patient_who_declines_goes_back_to_the_place_they_left(
    clinic: SimulatedClinic, app: Running
) -> None:
    """Y, D and Z wait; D presses the offer key and lets the offer pass (silence declines):
    D goes back to the queue at the position they left (``QUEUEPOSITION``), ahead of Z who
    joined after them, and the engine serves Y, D, Z.  D's announced estimate then has the
    wait that followed (the account's connect time)."""
    member = member_interface(OPERATOR, simulated=True)
    await app.engine.control.queue_member_pause(member, paused=True, reason="test")
    y = await queued(clinic, "+380501230020")
    d = await queued(clinic, "+380501230021")
    z = await queued(clinic, "+380501230022")
    await clinic.press(d, "1")
    await clinic.tracer.wait_until(  # silence declines (the offer's timeout): D rejoins
        d, lambda m: m.get("Event") == "QueueCallerJoin"
        and len(clinic.tracer.trace(d).named("QueueCallerJoin")) == 2, timeout=60)
    await app.engine.control.queue_member_pause(member, paused=False)
    for linkedid in (y, d, z):
        await clinic.finished(linkedid, timeout=120)

    lines = queue_log(clinic)
    entered = [f[7] for f in lines if len(f) > 7 and f[4] == "ENTERQUEUE" and f[1] == d]
    assert entered == ["2", "2"]  # joined second, came back second (ahead of Z)
    served = [f[1] for f in lines if len(f) > 4 and f[4] == "CONNECT" and f[1] in (y, d, z)]
    assert served == [y, d, z]
    attempts = []
    for _ in range(200):  # the account writes in batches: flush until both stays are there
        await app.tracker.reconcile()
        await app.tracker.flush()
        async with app.sessions() as session:
            attempts = list(await session.scalars(
                select(QueueAttempt).join(Call, Call.id == QueueAttempt.call_id)
                .where(Call.call_key == d).order_by(QueueAttempt.joined_at)))  # fmt: skip
        if len(attempts) == 2 and attempts[1].connected_at is not None \
                and attempts[0].outcome is not None:
            break
        await asyncio.sleep(0.1)
    assert [(a.outcome, a.exit_key) for a in attempts] == [("exitkey", "1"), ("answered", None)]
    async with app.sessions() as session:
        call = await session.scalar(select(Call).where(Call.call_key == d))
    assert call is not None
    assert not call.missed  # answered after the declined offer
    async with app.sessions() as session:
        [estimate] = list(await session.scalars(
            select(WaitEstimate).where(WaitEstimate.call_key == d)))
    connected = attempts[1].connected_at
    assert connected is not None
    assert estimate.announced_at < connected  # the wait that followed is measurable


@pytest.mark.timeout(300)
async def test_a_declined_caller_keeps_their_place_ahead_of_a_later_callback(
    clinic: SimulatedClinic, app: Running
) -> None:
    """X and D wait; a callback job comes in after D joined; D presses the offer key and
    declines, so Asterisk has D again with a wait that restarted.  The scheduler places D at
    their first join (the account's stay D left by the key), so after X it is D's turn, not
    the callback's, though the callback's call came before D's return (docs/callbacks.md,
    "Exact place").  The order is Asterisk's own record (queue_log)."""
    assert app.callbacks is not None
    member = member_interface(OPERATOR, simulated=True)
    await app.engine.control.queue_member_pause(member, paused=True, reason="test")
    await clinic.set_operator(OPERATOR, "answer", ring_s=1, talk_s=TALK_S)
    x = await queued(clinic, "+380501230030")
    d = await queued(clinic, "+380501230031")
    now = utc_now()
    job = await app.callbacks.store.add_job(
        phone="+380501230033", queue=QUEUE, reason=CallbackReason.REQUESTED, arrived_at=now,
        due_at=now, now=now)  # fmt: skip
    callback = call_id_for(f"cb{job}-1")
    clinic.tracer.expect(callback)
    await clinic.press(d, "1")
    await clinic.tracer.wait_until(  # silence declines (the offer's timeout): D rejoins
        d, lambda m: m.get("Event") == "QueueCallerJoin"
        and len(clinic.tracer.trace(d).named("QueueCallerJoin")) == 2, timeout=60)
    await written_attempt(app, d)  # the account holds the stay D left (the scheduler reads it)
    await app.engine.control.queue_member_pause(member, paused=False)
    for linkedid in (x, d, callback):
        await clinic.finished(linkedid, timeout=120)
    lines = queue_log(clinic)
    order = [f[1] if f[4] == "CONNECT" else "callback" for f in lines if len(f) > 6 and (
        (f[4] == "CONNECT" and f[1] in (x, d)) or (f[4] == "CLINICALLCB" and f[5] == callback
                                                   and f[6] == "ANSWER"))]  # fmt: skip
    assert order == [x, d, "callback"]
