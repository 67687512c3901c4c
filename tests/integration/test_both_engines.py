"""One patient scenario on both real engines, through the same wiring (``clinicall.app.running``)
and the same assertions: what the engine did (from the simulated clinic's own link) and what
the account kept.  The rest of the engine-neutral suite runs per engine
(test_calls.py on Asterisk, test_freeswitch_calls.py on FreeSWITCH)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import Running, running
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, QueueAttempt
from clinicall.db.models.enums import IvrOutcome, QueueOutcome
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.clinic import SimulatedClinic
from clinicall.simclinic.freeswitch import FreeswitchClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, Clock

pytestmark = pytest.mark.asyncio

FREESWITCH_EXAMPLE = EXAMPLE.with_name("clinic.freeswitch.example.yaml")


class Trace(Protocol):
    @property
    def queues_joined(self) -> list[str]: ...

    @property
    def operators_connected(self) -> list[str]: ...

    def variable(self, name: str) -> str | None: ...


@dataclass
class Clinic:
    """A simulated clinic on one engine, with the controller and the account running."""

    config: ClinicConfig
    parts: Running
    db_url: str
    call: Callable[[str, str], Awaitable[Trace]]  # (digits, number) → the finished call

    async def settled(self, calls: int) -> None:
        """The IVR finished ``calls`` calls, their outcomes are written and the engine's
        durable record is read."""
        await self.parts.controller.wait_handled(calls)
        await self.parts.controller.wait_written()
        await self.parts.tracker.reconcile()
        await self.parts.tracker.flush()


def _config(path: Path) -> ClinicConfig:
    config = load_config(path)
    return config.model_copy(update={"ivr": config.ivr.model_copy(update={"digit_timeout_s": 2.0})})


@pytest_asyncio.fixture(params=[pytest.param("asterisk", marks=pytest.mark.asterisk),
                                pytest.param("freeswitch", marks=pytest.mark.freeswitch)])
async def clinic(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Clinic]:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    if request.param == "asterisk":
        root = request.getfixturevalue("asterisk_root")
        async with SimulatedClinic.run(_config(EXAMPLE), root=root, name="both") as sim:
            for op in sim.config.operators:
                await sim.set_operator(op.id, "answer", talk_s=2)
            async with running(sim.config, db_url=db_url, now=Clock(),
                               queue_log=sim.asterisk.queue_log_path) as parts:  # fmt: skip
                await parts.engine.wait_up(10)

                async def call_asterisk(digits: str, number: str) -> Trace:
                    linkedid = await sim.call(digits=digits, number=number, hold_s=30)
                    return await sim.finished(linkedid, timeout=90)

                yield Clinic(sim.config, parts, db_url, call_asterisk)
    else:
        prefix = request.getfixturevalue("freeswitch_prefix")
        async with FreeswitchClinic.run(_config(FREESWITCH_EXAMPLE), prefix=prefix,
                                        name="both") as fsc:  # fmt: skip
            parts_cm = running(fsc.config, db_url=db_url, now=Clock())
            async with parts_cm as parts:
                await parts.engine.wait_up(10)

                async def call_freeswitch(digits: str, number: str) -> Trace:
                    trace = await fsc.call(digits, hold_s=30, number=number)
                    await fsc.observer.finished(trace, 90)
                    await asyncio.wait_for(trace.destroyed.wait(), 10)  # its CDR is written
                    return trace

                yield Clinic(fsc.config, parts, db_url, call_freeswitch)


async def rows(db_url: str) -> tuple[list[Call], list[QueueAttempt]]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            calls = list((await session.execute(select(Call))).scalars())
            attempts = list((await session.execute(select(QueueAttempt))).scalars())
            return calls, attempts
    finally:
        await engine.dispose()


async def test_an_english_caller_books_an_ultrasound_and_an_operator_answers(
        clinic: Clinic) -> None:
    trace = await clinic.call("1w1", ENGLISH_NUMBER)  # appointments, ultrasound
    await clinic.settled(1)
    assert trace.queues_joined == ["ultrasound"]
    members = {op.id for op in clinic.config.operators if "ultrasound" in op.queues}
    (operator,) = trace.operators_connected
    assert operator in members
    assert trace.variable("CLINICALL_LANG") == "en"
    assert trace.variable("CLINICALL_PATH") == "main:1/appointments:1"
    calls, attempts = await rows(clinic.db_url)
    (call,) = calls
    assert (call.language, call.route, call.ivr_outcome, call.ivr_path, call.missed) == (
        "en", "ultrasound", IvrOutcome.QUEUE, "main:1/appointments:1", False)
    (attempt,) = attempts
    assert (attempt.queue, attempt.outcome, attempt.agent) == ("ultrasound",
                                                               QueueOutcome.ANSWERED, operator)
