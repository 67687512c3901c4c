"""The in-queue offer's desk (``controller/offer_desk.py``) on the store and a scripted engine:
the place counts live callers and pending callbacks by the instant they joined, the caller's
own entry left out; each announcement is stored with the engine's figure; the job keeps the
join instant; one open job per number and queue; the queue's recent calls (handle times,
abandons) change the estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import seed_attempts

from clinicall.calltypes import CallInfo, QueuedCall
from clinicall.controller.facts import MemberState
from clinicall.controller.offer_desk import CallbackOfferDesk
from clinicall.controller.port import (
    EngineUnavailable,
    QueueEntryStatus,
    QueueMemberStatus,
    QueueStatus,
)
from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import CallbackReason, QueueOutcome, WaitEstimate
from clinicall.db.queue_history import RecentQueues
from clinicall.routing.wait_estimate import WaitRange
from clinicall.settings import ClinicConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
INFO = CallInfo(call_id="1.0", channel_id="1.0", caller_number="+380501230011",
                caller_name="", dialled_number="+380441234568", engine="asterisk")  # fmt: skip
#: The caller joined 100 s ago: X (300 s) is ahead, B (20 s) behind.
QUEUED = QueuedCall(language="en", queue="universal", priority=0,
                    queued_at=NOW - timedelta(seconds=100))  # fmt: skip


@dataclass
class ScriptedControl:
    """Answers ``queue_status`` only (the desk asks nothing else)."""

    statuses: tuple[QueueStatus, ...] = ()
    down: bool = False
    asked: list[str] = field(default_factory=list)

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        self.asked.append("queue_status")
        if self.down:
            raise EngineUnavailable("QueueStatus", "link down")
        return self.statuses


def _status(holdtime_s: float | None) -> QueueStatus:
    member = QueueMemberStatus("universal", "PJSIP/op104", "op104", MemberState.IN_CALL, False)
    entries = (QueueEntryStatus("x", 300.0), QueueEntryStatus("b", 20.0))
    return QueueStatus("universal", (member,), 2, 300.0, entries, holdtime_s)


def _desk(sessions: async_sessionmaker[AsyncSession], control: ScriptedControl,
          ) -> CallbackOfferDesk:  # fmt: skip
    config: ClinicConfig = load_config(EXAMPLE)
    store = CallbackStore(sessions, owner="offer", lease=timedelta(minutes=3))
    return CallbackOfferDesk(control, store, config, clock=lambda: NOW,  # type: ignore[arg-type]
                             country_code="380")  # fmt: skip


async def test_the_place_counts_earlier_callers_and_callbacks_and_is_stored(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    desk = _desk(db_sessions, ScriptedControl((_status(95.0),)))
    await desk.store.add_job(phone="+380501230099", queue="universal",
                             reason=CallbackReason.REQUESTED,
                             arrived_at=NOW - timedelta(seconds=200), due_at=NOW, now=NOW)
    place = await desk.place(INFO, QUEUED)
    # X (live) and the callback joined before; B after.  One operator, busy: the wait is
    # (two ahead + 1) handle times of the default 180 s
    assert place.position == 3
    assert place.wait == WaitRange(5, 10)
    async with db_sessions() as session:
        rows = list(await session.scalars(select(WaitEstimate)))
    assert [(r.call_key, r.queue, r.estimate_s, r.engine_estimate_s) for r in rows] == [
        ("1.0", "universal", 540.0, 95.0)]


async def test_a_caller_about_to_join_is_behind_everyone_waiting_and_earlier_callbacks(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """``callbacks.announce_wait``: X and B both wait already, the callback's call came
    before; one that comes after the caller (due later) is behind them."""
    desk = _desk(db_sessions, ScriptedControl((_status(None),)))
    for seconds in (-200, 10):
        await desk.store.add_job(phone=f"+38050123{seconds + 1000:04d}", queue="universal",
                                 reason=CallbackReason.REQUESTED,
                                 arrived_at=NOW + timedelta(seconds=seconds), due_at=NOW,
                                 now=NOW)  # fmt: skip
    place = await desk.place_at_join(INFO, "universal", 0)
    assert place.position == 4
    async with db_sessions() as session:
        rows = list(await session.scalars(select(WaitEstimate)))
    # three ahead, one operator in a call: (3 + 1) handle times of the default 180 s
    assert [(r.call_key, r.queue, r.estimate_s, r.engine_estimate_s) for r in rows] == [
        ("1.0", "universal", 720.0, None)]
    assert place.wait == WaitRange(10, 20)


async def test_without_the_engine_no_place_and_nothing_stored(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    desk = _desk(db_sessions, ScriptedControl(down=True))
    place = await desk.place(INFO, QUEUED)
    assert (place.position, place.wait) == (None, None)
    async with db_sessions() as session:
        assert list(await session.scalars(select(WaitEstimate))) == []


async def test_the_job_keeps_the_join_instant_and_one_per_number_and_queue(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    desk = _desk(db_sessions, ScriptedControl())
    assert await desk.book(INFO, QUEUED, "+380501230011", "en")
    assert await desk.book(INFO, QUEUED, "+380501230011", "en")  # the same place again
    [job] = await desk.store.jobs()
    assert (job.phone, job.queue, job.reason, job.arrived_at, job.state, job.language) == (
        "+380501230011", "universal", "requested", QUEUED.queued_at, "pending", "en")


async def test_no_join_instant_no_job(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    desk = _desk(db_sessions, ScriptedControl((_status(None),)))
    placeless = QueuedCall(language="en", queue="universal", priority=0, queued_at=None)
    assert not await desk.book(INFO, placeless, "+380501230011", "en")
    assert (await desk.place(INFO, placeless)).position is None
    assert await desk.store.jobs() == []


async def test_the_offer_announces_with_the_queues_recent_calls(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The desk of test_offer_desk (X live and one callback ahead, one busy operator): with no
    history the wait is 3 x 180 s (5-10 minutes).  The last hour's calls: two answered with
    595 s talks (h = 600 s with the 5 s wrap-up) and two abandons, each of the four waited
    30 s: theta = 2 / 120 s.  While i of the two are ahead the live half of them hangs up:
    600 + 1/(1/600 + 1/120) + 1/(1/600 + 2/120) = 600 + 100 + 600/11 s (10-20 minutes;
    without abandonment it would be 3 x 600 s, 30 minutes)."""
    ten = timedelta(minutes=10)
    await seed_attempts(db_sessions, [("universal", QueueOutcome.ANSWERED, 595.0, ten),
                             ("universal", QueueOutcome.ANSWERED, 595.0, 2 * ten),
                             ("universal", QueueOutcome.ABANDONED, None, 3 * ten),
                             ("universal", QueueOutcome.ABANDONED, None, 4 * ten)], NOW)
    desk = _desk(db_sessions, ScriptedControl((_status(95.0),)))
    desk.history = RecentQueues(db_sessions, wrapup_s=lambda queue: 5.0)
    await desk.store.add_job(phone="+380501230099", queue="universal",
                             reason=CallbackReason.REQUESTED,
                             arrived_at=NOW - timedelta(seconds=200), due_at=NOW,
                             now=NOW)
    place = await desk.place(INFO, QUEUED)
    assert place.wait == WaitRange(10, 20)
    async with db_sessions() as session:
        (row,) = await session.scalars(select(WaitEstimate))
    assert row.estimate_s == pytest.approx(700.0 + 600.0 / 11)
