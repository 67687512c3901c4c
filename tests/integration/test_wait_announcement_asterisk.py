"""The wait announced as a caller joins a queue (``callbacks.announce_wait``; docs/callbacks.md,
"Estimated wait") on the real Asterisk 22: the front desk's one operator is talking to a first
patient when a second joins; the second hears their place and the wait as a range before
Asterisk puts them in the queue (the order read from Asterisk's own events), and the store
holds each announcement's estimate, measured against the wait that followed once answered.

The FreeSWITCH counterpart: test_callback_offer_freeswitch.py (the join announcement test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import Running, utc_now
from clinicall.db.models import WaitEstimate
from clinicall.ivr import prompts
from clinicall.reports.wait_estimates import estimate_accuracy
from clinicall.simclinic.calltrace import played_prompt
from clinicall.simclinic.clinic import SimulatedClinic

from .offer_common import OPERATOR, QUEUE, offer_config, queued, written_attempt

pytestmark = pytest.mark.asyncio(loop_scope="module")

TALK_S = 15


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    config = offer_config(announce_wait=True)
    async with SimulatedClinic.run(config, root=asterisk_root, name="join-wait") as clinic:
        yield clinic


@pytest.mark.timeout(180)
async def test_a_caller_hears_place_and_wait_before_joining_and_the_estimate_is_measured(
    clinic: SimulatedClinic, app: Running
) -> None:
    since = utc_now()
    app.controller.join_place_deadline_s = 30.0  # a loaded machine must not skip the words
    await clinic.set_operator(OPERATOR, "answer", ring_s=1, talk_s=TALK_S)
    first = await queued(clinic, "+380501230001")
    await clinic.tracer.wait_for(first, "AgentConnect", timeout=30)  # the operator is busy
    second = await queued(clinic, "+380501230002")
    trace = await clinic.finished(second, timeout=120)
    played = [(i, name) for i, m in enumerate(trace.events)
              if (name := played_prompt(m)) is not None]  # fmt: skip
    position = next(i for i, n in played if n == prompts.prompt_name("en",
                                                                     prompts.QUEUE_POSITION))
    wait = next(i for i, n in played if n.startswith("clinicall/en/wait_"))
    joined = next(i for i, m in enumerate(trace.events) if m.get("Event") == "QueueCallerJoin")
    assert position < wait < joined
    # the store: both announcements, each beside the wait that followed once answered
    for linkedid in (first, second):
        attempt = await written_attempt(app, linkedid)
        assert attempt.connected_at is not None
    async with app.sessions() as session:
        keys = list(await session.scalars(select(WaitEstimate.call_key)
                                          .where(WaitEstimate.queue == QUEUE)))
        accuracy = await estimate_accuracy(session, start=since,
                                           end=utc_now() + timedelta(minutes=1))
    assert sorted(keys) == sorted([first, second])
    assert accuracy.clinicall.count == 2
