"""Asterisk restarts under a running controller: the AMI link comes back by itself and the
account keeps every call, before and after (docs/architecture.md's named failure scenario "Asterisk
restart")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import running
from clinicall.controller.asterisk.ami.client import STATUS_EVENT
from clinicall.controller.asterisk.ami.stream import EventStream
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.db.models import Call, QueueAttempt, QueueOutcome
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

        with caplog.at_level(logging.INFO):
            statuses = asyncio.create_task(_link_statuses(ami.events()))
            await clinic.asterisk.restart()
            async with asyncio.timeout(40):
                assert await statuses == ["down", "up"]
        health = engine.health()
        assert (health.up, health.reconnects, health.engine) == (True, 1, "asterisk")
        await clinic.ami.wait_connected(30)  # the test's own observer reconnects too
        after = await clinic.call(digits="0", number=ENGLISH_NUMBER, hold_s=20)
        assert (await clinic.finished(after, timeout=60)).operators_connected

        await parts.tracker.reconcile()
        await parts.tracker.flush()
        async with parts.sessions() as session:
            rows = (await session.execute(
                select(Call.call_key, QueueAttempt.queue, QueueAttempt.outcome)
                .join(QueueAttempt, QueueAttempt.call_id == Call.id)
                .order_by(QueueAttempt.joined_at))).all()
    assert [tuple(r) for r in rows] == [
        (before, "universal", QueueOutcome.ANSWERED),
        (after, "universal", QueueOutcome.ANSWERED),
    ]
    client_log = "clinicall.controller.asterisk.ami.client"
    messages = [r.getMessage() for r in caplog.records if r.name == client_log]
    assert any(m.startswith("AMI down") for m in messages), messages
    assert any(m.startswith("AMI up") for m in messages), messages
