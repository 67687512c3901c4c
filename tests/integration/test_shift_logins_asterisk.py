"""On the real Asterisk 22 with the generated config (no static members): the controller, as
``clinicall run`` starts it, logs every operator in to their configured queues at link-up,
and a queue an operator then logs out of through the desk stays logged out across the next
link-up (docs/engines/asterisk.md, "Queue members")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from clinicall.app import operator_desk, running
from clinicall.controller.port import QueueStatus
from clinicall.settings import load_config
from clinicall.simclinic.clinic import SimulatedClinic

pytestmark = pytest.mark.asterisk
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"


def members(status: tuple[QueueStatus, ...]) -> set[tuple[str, str]]:
    return {(q.queue, m.member_name) for q in status for m in q.members}


async def test_the_controller_logs_operators_in_at_start_and_keeps_a_logout(
    asterisk_root: Path, tmp_path: Path,
) -> None:
    config = load_config(EXAMPLE)
    expected = {(queue, op.id) for op in config.operators for queue in op.queues}
    async with SimulatedClinic.run(config, root=asterisk_root, name="shift",
                                   log_in_operators=False) as clinic:
        assert members(await _status(clinic)) == set()  # nobody is static any more
        url = f"sqlite+aiosqlite:///{tmp_path / 'shift.db'}"
        async with running(clinic.config, db_url=url,
                           queue_log=clinic.asterisk.queue_log_path) as parts:
            assert parts.shift is not None
            await parts.engine.wait_up(10)
            await _attempt(parts.shift.done)
            status = await parts.engine.control.queue_status()
            assert members(status) == expected
            assert {m.member for q in status for m in q.members} == {
                f"PJSIP/{op.id}" for op in config.operators}
            desk = operator_desk(clinic.config, parts)
            await desk.log_out("op102", "gynecology")
            parts.shift.done.clear()  # the next link-up's attempt sets it again
            await clinic.asterisk.restart()  # an engine that comes back: a new link-up
            await parts.engine.wait_up(30)
            await _attempt(parts.shift.done)
            after = members(await parts.engine.control.queue_status())
            assert after == expected - {("gynecology", "op102")}


async def _status(clinic: SimulatedClinic) -> tuple[QueueStatus, ...]:
    from clinicall.controller.asterisk.control import parse_queue_status

    result = await clinic.ami.action("QueueStatus", {})
    return parse_queue_status(result.events)


async def _attempt(done: asyncio.Event) -> None:
    async with asyncio.timeout(20):
        await done.wait()
