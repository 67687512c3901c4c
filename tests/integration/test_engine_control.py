"""The engine port's control on the real Asterisk 22: an originated call reaches an operator,
a pause with its reason shows in queue_log and in the live view, members added and removed
show in the queue status.  Nothing here drives AMI directly: only ``engine.control``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.asterisk_config.queues import member_interface
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.facts import Fact, MemberSeen
from clinicall.controller.port import OriginateRequest
from clinicall.controller.tracking.live import LiveState
from clinicall.settings.loader import load_config
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import EXAMPLE

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Seen:
    """The live view, fed by the engine's facts; ``until`` wakes on every new fact."""

    def __init__(self) -> None:
        self.live = LiveState()
        self.facts: list[Fact] = []
        self._new = asyncio.Event()

    def __call__(self, fact: Fact) -> None:
        self.live.apply(fact)
        self.facts.append(fact)
        self._new.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._new.wait()
            self._new.clear()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(load_config(EXAMPLE), root=asterisk_root,
                                   name="control") as clinic:  # fmt: skip
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "answer", talk_s=2)
        yield clinic


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(clinic: SimulatedClinic) -> AsyncIterator[tuple[AsteriskEngine, Seen]]:
    engine = AsteriskEngine(clinic.config.asterisk_engine())
    seen = Seen()
    engine.subscribe(seen)
    await engine.start()
    await engine.wait_up(10)
    yield engine, seen
    await engine.close()


async def test_an_originated_call_reaches_an_operator(
    clinic: SimulatedClinic, engine: tuple[AsteriskEngine, Seen]
) -> None:
    port, _ = engine
    queue = "universal"
    key = f"test-originate-{datetime.now(UTC).timestamp()}"
    clinic.tracer.expect(call_id_for(key))
    result = await port.control.originate(OriginateRequest(key=key, number="0501112233",
                                                          queue=queue, priority=3))  # fmt: skip
    assert (result.call_id, result.answered) == (call_id_for(key), True)
    trace = await clinic.finished(result.call_id, timeout=60)
    assert trace.queues_joined == [queue]
    assert len(trace.operators_connected) == 1


async def test_a_pause_shows_in_queue_log_and_in_the_live_view(
    clinic: SimulatedClinic, engine: tuple[AsteriskEngine, Seen]
) -> None:
    port, seen = engine
    operator = next(op for op in clinic.config.operators if "universal" in op.queues)
    member = member_interface(operator.id, simulated=True)
    await port.control.queue_member_pause(member, paused=True, reason="lunch", queue="universal")

    def paused() -> bool:
        return any(isinstance(f, MemberSeen) and f.member == member and f.paused
                   and f.pause_reason == "lunch" and f.queue == "universal"
                   for f in seen.facts)  # fmt: skip

    async with asyncio.timeout(10):
        await seen.until(paused)
    assert seen.live.queue_now("universal", datetime.now(UTC)).paused >= 1
    lines = clinic.asterisk.queue_log_path.read_text().splitlines()
    assert any(line.split("|")[2:6] == ["universal", operator.id, "PAUSE", "lunch"]
               for line in lines), lines[-5:]  # fmt: skip
    await port.control.queue_member_pause(member, paused=False, queue="universal")
    (status,) = [q for q in await port.control.queue_status() if q.queue == "universal"]
    assert not next(m for m in status.members if m.member == member).paused


async def test_members_added_and_removed_show_in_the_queue_status(
    engine: tuple[AsteriskEngine, Seen],
) -> None:
    port, _ = engine
    member = "Local/temp@clinicall-sim-operators/n"
    await port.control.queue_member_add("therapy", member, name="temp", paused=True)
    (therapy,) = [q for q in await port.control.queue_status() if q.queue == "therapy"]
    added = next(m for m in therapy.members if m.member == member)
    assert (added.member_name, added.paused) == ("temp", True)
    await port.control.queue_member_remove("therapy", member)
    (therapy,) = [q for q in await port.control.queue_status() if q.queue == "therapy"]
    assert member not in [m.member for m in therapy.members]
