"""The fake engine's control port: a callback originate, agent first, played on the floor in
virtual time, with its outcome told through the port and its call told to the account."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinicall.calltypes import QueueRequest
from clinicall.controller.facts import CallDataSet, ChannelClosed, ChannelOpened, MemberState
from clinicall.controller.port import (
    CALLBACK_ANSWERED,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
    OriginateResult,
)
from clinicall.settings.loader import load_config
from clinicall.simclinic.day import Afterwards, SimPatient
from clinicall.simclinic.floor import Floor
from clinicall.simclinic.sim_control import GREETING_S, WHISPER_S, SimControl

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
CONFIG = load_config(EXAMPLE)  # wrap-up 5 s on every queue
START = datetime(2026, 11, 24, tzinfo=UTC)
S = 1000
ANNA = "+380671111111"


def patient(rings: tuple[float | None, ...], handle_s: float = 60.0) -> SimPatient:
    return SimPatient(index=0, arrival=START, caller=ANNA, dialled="+380441234567",
                      topic="therapy", keys="14", think_s=(1.0, 1.0), hangs_up_in_ivr=False,
                      patience_s=10.0, handle_s=handle_s,
                      afterwards=Afterwards(callback_rings_s=rings))  # fmt: skip


class Run:
    """A floor with one therapy operator, the control on it, and the run's virtual instant."""

    def __init__(self, rings: tuple[float | None, ...]) -> None:
        self.floor = Floor(CONFIG, START, [h * 3_600_000 for h in range(25)],
                           lambda queue, hour: 1 if queue == "therapy" and hour < 24 else 0)
        self.now = 0
        self.floor.run_until(0)  # the operators log in
        self.control = SimControl(self.floor, lambda: self.now, patients={ANNA: patient(rings)},
                                  call_id_for=lambda key: f"call-{key}",
                                  caller_id="+380441234567")  # fmt: skip

    async def dial(self, key: str = "cb1-1", agent: str = "therapy-op1"
                   ) -> asyncio.Task[OriginateResult]:  # fmt: skip
        request = OriginateRequest(key=key, number=ANNA, queue="therapy", agent=agent,
                                   data={"callback": "1", "purpose": "callback",
                                         "dialled": ANNA})  # fmt: skip
        task = asyncio.create_task(self.control.originate(request))
        await self.control.wait_dialled(self.control.dialled + 1)
        return task

    async def step(self) -> int:
        """The floor's next instant, then the attempts it woke settle."""
        at = self.floor.next_at()
        assert at is not None
        self.now = at
        self.floor.run_until(at)
        await self.control.settle_woken()
        return at

    def facts(self) -> list[tuple[int, object]]:
        return [(at, fact) for at, _, fact in self.floor.facts if not fact.durable]


async def test_an_answered_callback_rings_the_operator_first_and_returns_at_the_answer() -> None:
    run = Run(rings=(5.0,))
    task = await run.dial()
    [status] = [s for s in run.floor.status(0) if s.queue == "therapy"]
    assert status.members[0].state == MemberState.IN_CALL  # the whisper: the operator's on
    assert not task.done()
    answered_at = round((WHISPER_S + 5.0) * 1000)
    while not task.done():
        await run.step()
    assert run.now == answered_at  # the outcome comes at the patient's answer, not before
    assert task.result() == OriginateResult("cb1-1", "call-cb1-1", "call-cb1-1")
    end = answered_at + round((GREETING_S + 60.0) * 1000)
    told = [(at, type(f).__name__, getattr(f, "name", ""), getattr(f, "value", ""))
            for at, f in run.facts()]  # fmt: skip
    assert told == [(0, "ChannelOpened", "", ""), (0, "CallDataSet", "purpose", "callback"),
                    (0, "CallDataSet", "dialled", ANNA),
                    (answered_at, "CallDataSet", "outcome", CALLBACK_ANSWERED),
                    (end, "ChannelClosed", "", "")]  # fmt: skip
    opened = run.facts()[0][1]
    assert isinstance(opened, ChannelOpened)
    assert (opened.call_id, opened.caller_number, opened.dialled) == ("call-cb1-1",
                                                                      "+380441234567", ANNA)
    [dial] = run.control.dials
    assert (dial.job, dial.member, dial.answered, dial.at) == ("1", "therapy-op1", True, START)
    assert dial.ended_at == START + timedelta(milliseconds=end)
    # a live caller who comes meanwhile waits for the talk and the wrap-up
    run.floor.enqueue(answered_at, "live", "+380672", QueueRequest(
        "therapy", 0, 600, None, "uk", "", "therapy"), patience_s=1000, handle_s=10)
    run.floor.run()
    [stay] = [a for a in run.floor.attempts if a.call_id == "live"]
    assert stay.joined_ms + (stay.wait_ms or 0) == end + 5 * S


async def test_a_patient_who_does_not_answer_rings_out_and_the_operator_is_free_at_once(
) -> None:
    run = Run(rings=(None, 3.0))
    task = await run.dial()
    while not task.done():
        await run.step()
    assert run.now == round((WHISPER_S + 30.0) * 1000)  # the request's ring_timeout_s
    with pytest.raises(OriginateFailed) as failed:
        task.result()
    assert failed.value.cause == OriginateCause.NO_ANSWER
    closed = [at for at, f in run.facts() if isinstance(f, ChannelClosed)]
    assert closed == [run.now]
    assert not [f for _, f in run.facts() if isinstance(f, CallDataSet) and f.name == "outcome"]
    [status] = [s for s in run.floor.status(run.now) if s.queue == "therapy"]
    assert status.members[0].state == MemberState.IDLE
    # the second try takes the patient's second draw: answered after 3 s
    second = await run.dial(key="cb1-2")
    began = run.now
    while not second.done():
        await run.step()
    assert run.now == began + round((WHISPER_S + 3.0) * 1000)
    assert [d.answered for d in run.control.dials] == [False, True]


async def test_an_operator_already_in_a_call_is_not_dialled() -> None:
    run = Run(rings=(5.0,))
    assert run.floor.engage(0, "therapy-op1")
    task = await run.dial()
    await run.step()
    with pytest.raises(OriginateFailed) as failed:
        task.result()
    assert failed.value.cause == OriginateCause.AGENT_MISSED
    assert run.facts() == []  # nothing was placed
    assert run.control.dials == []


async def test_a_rounds_originates_go_on_the_floor_in_the_order_of_their_keys() -> None:
    """The attempts reach the port in whatever order the store answered them: the floor takes
    them by key, so the same seed gives the same day."""
    run = Run(rings=(5.0,))
    requests = [OriginateRequest(key=key, number=ANNA, queue="therapy", agent="therapy-op1")
                for key in ("cb2-1", "cb1-1")]  # fmt: skip
    tasks = [asyncio.create_task(run.control.originate(r)) for r in requests]
    await run.control.wait_dialled(2)
    while not all(t.done() for t in tasks):
        await run.step()
    assert tasks[1].result().key == "cb1-1"  # placed first: it had the operator
    with pytest.raises(OriginateFailed):
        tasks[0].result()  # the operator was taken by then
