"""The callback offer at the wait threshold on the real Asterisk 22, end to end
(docs/callbacks.md, "The offer in the queue"; docs/engines/asterisk.md, "The in-queue callback
offer").

One front-desk operator, paused; the queue offers a callback at an estimated wait of 5
minutes, and a call takes 3 (``default_handle_s``).  X joins: one call ahead of nobody, 3
minutes, no offer.  A joins after X: 6 minutes, so the controller takes A out of the queue
into the offer unasked (A presses no key until the offer asks); A takes the callback on the
number they call from and is hung up on.  B joins after A (X and A's callback ahead), is
offered too, lets the offer pass and goes back to their place, and is not offered again.  C
joins last, is offered and hangs up during the offer without booking: a missed call returned
like an abandon (docs/callbacks.md, "Missed calls"), so the intake makes C a missed-call job.
The operator resumes: the engine serves X, the scheduler calls A back, then B and C's callback.
Everything is read from the engine's own record (queue_log); the queues announce positions
(app_queue's default), so the controller's key must get through them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.agi_scripts.variables import OFFER_UNASKED_KEY
from clinicall.app import Running
from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.callbacks.intake import OFFER_SETTLED
from clinicall.db.models import Call
from clinicall.ivr import prompts
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

THRESHOLD_MIN = 5
HANDLE_S = 180  # one operator: the second caller's estimate is 6 minutes, the first's 3


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    config = offer_config(announce_position=True, offer_after_min=THRESHOLD_MIN,
                          default_handle_s=HANDLE_S)  # fmt: skip
    async with SimulatedClinic.run(config, root=asterisk_root, name="threshold") as clinic:
        yield clinic


# C's missed call is decided OFFER_SETTLED after C hung up (the intake waits out the offer)
@pytest.mark.timeout(OFFER_SETTLED.total_seconds() + 240)
async def test_a_caller_whose_wait_passes_the_threshold_is_offered_a_callback_that_keeps_the_place(
    clinic: SimulatedClinic, app: Running
) -> None:
    assert app.callbacks is not None  # callbacks.enabled: the scheduler runs in real time
    offer = prompts.prompt_name("en", prompts.CALLBACK_OFFER)
    callback = call_id_for("cb1-1")  # the first job of a fresh store, first attempt
    clinic.tracer.expect(callback)
    member = member_interface(OPERATOR, simulated=True)
    await app.engine.control.queue_member_pause(member, paused=True, reason="test")
    await clinic.set_operator(OPERATOR, "answer", ring_s=1, talk_s=TALK_S)

    x = await queued(clinic, "+380501230030")
    a = await queued(clinic, "+380501230031")
    await clinic.tracer.wait_for_prompt(a, offer, timeout=60)  # unasked: A pressed nothing
    await clinic.press(a, "1")  # yes, call me back
    await clinic.tracer.wait_for_prompt(
        a, prompts.prompt_name("en", prompts.CALLBACK_SAME_NUMBER), timeout=30)
    await clinic.press(a, "1")  # on the number I call from
    trace_a = await clinic.finished(a, timeout=60)  # confirmed, then hung up by the offer
    assert prompts.prompt_name("en", prompts.CALLBACK_CONFIRMED) in trace_a.prompts_played

    b = await queued(clinic, "+380501230032")
    await clinic.tracer.wait_for_prompt(b, offer, timeout=60)
    await clinic.tracer.wait_until(  # silence declines (the offer's timeout): B rejoins
        b, lambda m: m.get("Event") == "QueueCallerJoin"
        and len(clinic.tracer.trace(b).named("QueueCallerJoin")) == 2, timeout=60)
    c = await queued(clinic, "+380501230033")
    await clinic.tracer.wait_for_prompt(c, offer, timeout=60)
    callback_c = call_id_for("cb2-1")  # the job the intake makes of C's missed call
    clinic.tracer.expect(callback_c)
    await clinic.hang_up(c)  # during the offer, nothing booked
    await clinic.finished(c, timeout=30)

    await app.engine.control.queue_member_pause(member, paused=False)
    for linkedid in (x, b):
        await clinic.finished(linkedid, timeout=120)
    await clinic.finished(callback, timeout=60)
    await clinic.finished(callback_c, timeout=OFFER_SETTLED.total_seconds() + 60)

    # the engine's own record: who was taken into the offer, and who the operator was given
    lines = queue_log(clinic)
    exits = [(f[1], f[5]) for f in lines if len(f) > 5 and f[4] == "EXITWITHKEY"]
    assert exits == [(a, OFFER_UNASKED_KEY), (b, OFFER_UNASKED_KEY),
                     (c, OFFER_UNASKED_KEY)]  # X never, B once  # fmt: skip
    names = {callback: "callback A", callback_c: "callback C"}
    order = [f[1] if f[4] == "CONNECT" else names[f[5]] for f in lines
             if len(f) > 6 and ((f[4] == "CONNECT" and f[2] == QUEUE)
                                or (f[4] == "CLINICALLCB" and f[6] == "ANSWER"))]  # fmt: skip
    assert order == [x, "callback A", b, "callback C"]  # C called after B came back
    entered = [f[7] for f in lines if len(f) > 7 and f[4] == "ENTERQUEUE" and f[1] == b]
    assert entered == ["2", "2"]  # B came back to the place they left (A had gone)

    # A's job kept A's place, the instant A joined the queue; C's is a missed-call job, and
    # A's own missed call (the offer booked for it) made none
    job, job_c = sorted(await app.callbacks.store.jobs(), key=lambda j: j.id)
    assert (job.phone, job.queue, job.reason, job.state) == ("+380501230031", QUEUE,
                                                             "requested", "done")
    assert (job_c.phone, job_c.queue, job_c.reason, job_c.state) == ("+380501230033", QUEUE,
                                                                     "missed", "done")
    [joined_a] = [float(m["Timestamp"]) for m in trace_a.named("QueueCallerJoin")]
    assert abs(job.arrived_at.timestamp() - joined_a) < 0.5

    # the account: A left the queue by the controller's key, an exit by key (docs/kpi.md)
    attempt = await written_attempt(app, a)
    assert (attempt.outcome, attempt.exit_key) == ("exitkey", OFFER_UNASKED_KEY)
    async with app.sessions() as session:
        call = await session.scalar(select(Call).where(Call.call_key == a))
    assert call is not None
    assert (call.missed, call.miss_cause) == (True, "exitkey")  # until the callback returns it
