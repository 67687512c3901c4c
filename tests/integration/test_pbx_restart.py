"""Asterisk restarts under a running controller: the AMI link comes back by itself and the
account keeps every call, before and after (docs/architecture.md's named failure scenario "Asterisk
restart").  The calls the restart (or a crash) ended are the PBX's doing, not the patients': cut,
hang-up side "engine", missed by cause "engine" (docs/kpi.md, "cut")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import Running, running
from clinicall.controller.asterisk.ami.client import STATUS_EVENT
from clinicall.controller.asterisk.ami.stream import EventStream
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.db.models import Call, HangupSide, IvrOutcome, MissCause, QueueAttempt, QueueOutcome
from clinicall.settings.loader import load_config
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, TUESDAY_10_KYIV

pytestmark = pytest.mark.asyncio(loop_scope="module")



@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(load_config(EXAMPLE), root=asterisk_root,
                                   name="restart") as clinic:
        yield clinic


async def _link_statuses(stream: EventStream) -> list[str]:
    """The AMI link's status changes ('down', then 'up') as the client announces them."""
    seen: list[str] = []
    async for message in stream:
        if message.get("Event") == STATUS_EVENT:
            seen.append(message.get("Status", ""))
            if seen[-2:] == ["down", "up"]:
                return seen
    return seen


async def test_controller_survives_an_asterisk_restart_and_accounts_every_call(
    clinic: SimulatedClinic, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}"
    async with running(clinic.config, db_url=db_url, queue_log=clinic.asterisk.queue_log_path,
                       now=lambda: TUESDAY_10_KYIV) as parts:
        engine = parts.engine
        assert isinstance(engine, AsteriskEngine)  # the restart is watched on its AMI link
        ami = engine.ami
        await engine.wait_up(10)
        assert (engine.health().up, engine.health().reconnects) == (True, 0)
        before = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=20)
        assert (await clinic.finished(before, timeout=60)).operators_connected

        waiting, in_menu = await _a_caller_waiting_and_one_in_the_menu(clinic)
        with caplog.at_level(logging.INFO):
            statuses = asyncio.create_task(_link_statuses(ami.events()))
            await clinic.asterisk.restart()
            async with asyncio.timeout(40):
                assert await statuses == ["down", "up"]
        health = engine.health()
        assert (health.up, health.reconnects, health.engine) == (True, 1, "asterisk")
        await clinic.ami.wait_connected(30)  # the test's own observer reconnects too
        await _operators(clinic, "answer")
        after = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=20)
        assert (await clinic.finished(after, timeout=60)).operators_connected

        await parts.tracker.reconcile()
        await parts.tracker.flush()
        async with parts.sessions() as session:
            rows = (await session.execute(
                select(Call.call_key, QueueAttempt.queue, QueueAttempt.outcome)
                .join(QueueAttempt, QueueAttempt.call_id == Call.id)
                .order_by(QueueAttempt.joined_at))).all()
        assert await _cut_calls(parts, waiting, in_menu) == {
            waiting: (IvrOutcome.QUEUE, MissCause.ENGINE, HangupSide.ENGINE),
            in_menu: (IvrOutcome.FAILED, MissCause.ENGINE, HangupSide.ENGINE),
        }
    assert [tuple(r) for r in rows] == [
        (before, "universal", QueueOutcome.ANSWERED),
        (waiting, "universal", QueueOutcome.CUT),
        (after, "universal", QueueOutcome.ANSWERED),
    ]
    client_log = "clinicall.controller.asterisk.ami.client"
    messages = [r.getMessage() for r in caplog.records if r.name == client_log]
    assert any(m.startswith("AMI down") for m in messages), messages
    assert any(m.startswith("AMI up") for m in messages), messages


async def test_calls_the_pbx_died_with_are_ended_as_cut_when_it_starts_again(
    clinic: SimulatedClinic, tmp_path: Path
) -> None:
    """kill -9: Asterisk says nothing of its calls; its next start (queue_log's QUEUESTART)
    tells the account that every call still open, and every one that ended as the link
    dropped, died with it."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    async with running(clinic.config, db_url=db_url, queue_log=clinic.asterisk.queue_log_path,
                       now=lambda: TUESDAY_10_KYIV) as parts:
        await parts.engine.wait_up(10)
        answered = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=20)
        assert (await clinic.finished(answered, timeout=60)).operators_connected
        waiting, in_menu = await _a_caller_waiting_and_one_in_the_menu(clinic)
        await clinic.asterisk.restart(crash=True)
        await parts.engine.wait_up(30)
        await clinic.ami.wait_connected(30)
        await _operators(clinic, "answer")
        await parts.tracker.reconcile()
        await parts.tracker.flush()
        assert await _cut_calls(parts, waiting, in_menu, answered) == {
            waiting: (IvrOutcome.QUEUE, MissCause.ENGINE, HangupSide.ENGINE),
            in_menu: (IvrOutcome.FAILED, MissCause.ENGINE, HangupSide.ENGINE),
            answered: (IvrOutcome.QUEUE, None, HangupSide.AGENT),  # ended before: untouched
        }
        async with parts.sessions() as session:
            outcomes = {key: outcome for key, outcome in (await session.execute(
                select(Call.call_key, QueueAttempt.outcome)
                .join(QueueAttempt, QueueAttempt.call_id == Call.id)
                .where(Call.call_key.in_((answered, waiting, in_menu))))).all()}
            ended = (await session.execute(select(Call.ended_at).where(
                Call.call_key == waiting))).scalar_one()
    assert outcomes == {answered: QueueOutcome.ANSWERED, waiting: QueueOutcome.CUT}
    assert ended is not None


async def _operators(clinic: SimulatedClinic, behaviour: str) -> None:
    for operator in ("op101", "op102", "op103", "op104"):
        await clinic.set_operator(operator, behaviour)


async def _a_caller_waiting_and_one_in_the_menu(clinic: SimulatedClinic) -> tuple[str, str]:
    """A patient waiting in the front-desk queue (nobody answers) and one still in the menu."""
    await _operators(clinic, "noanswer")
    waiting = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=120)
    await clinic.tracer.wait_for(waiting, "QueueCallerJoin", timeout=30)
    in_menu = await clinic.call(digits="", number=ENGLISH_NUMBER, hold_s=120)
    await clinic.tracer.wait_for(in_menu, "AGIExecStart", timeout=30)
    return waiting, in_menu


async def _cut_calls(parts: Running, *keys: str) -> dict[str, tuple[object, ...]]:
    async with parts.sessions() as session:
        rows = (await session.execute(
            select(Call.call_key, Call.ivr_outcome, Call.miss_cause, Call.hangup_side)
            .where(Call.call_key.in_(keys)))).all()
    return {key: (outcome, cause, side) for key, outcome, cause, side in rows}
