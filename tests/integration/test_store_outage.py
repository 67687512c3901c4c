"""Drill: PostgreSQL stops for 30 s under 50 live calls through the real Asterisk.

While the store is down the controller keeps answering (the IVR never waits on the store), the
account keeps every fact in memory and retries with backoff; the log says so in two lines, not
thousands (docs/architecture.md, "Logs").  When the store returns, the account catches up and
equals the ground truth: what the test's own AMI observer saw happen to each call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from pg import PostgresServer
from sqlalchemy import select

from clinicall import logbudget
from clinicall.app import running
from clinicall.db.models import Call, MissCause, QueueAttempt, QueueOutcome
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, TUESDAY_10_KYIV

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.postgres]

CALLS = 50
OUTAGE_S = 30.0
MAX_OUTAGE_LINES = 20  # the bound for the whole outage, tracebacks counted by line


def _config() -> ClinicConfig:
    """The example clinic; the front desk has no wrap-up, so four operators keep up."""
    config = load_config(EXAMPLE)
    queues = dict(config.queues)
    queues["universal"] = queues["universal"].model_copy(update={"wrapup_s": 0})
    return config.model_copy(update={"queues": queues})


class LineCounter(logging.Handler):
    """Every line the product would write to stderr, through the same repeat budget."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += self.format(record).splitlines()


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    """A server of the drill's own: it is stopped in the middle (not the suite's shared one)."""
    with PostgresServer() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="outage") as clinic:
        yield clinic


def _patient(i: int) -> tuple[str, int]:
    """Digits and hold time of the i-th patient: one in ten hangs up in the menu, the rest
    ask for an operator (one in ten of them hangs up a second after joining the queue)."""
    return ("", 3) if i % 10 == 0 else ("0", 60)


async def _place_calls(clinic: SimulatedClinic, postgres: PostgresServer,
                       stopped: asyncio.Event) -> list[str]:
    calls: list[str] = []
    abandons: list[asyncio.Task[None]] = []
    for i in range(CALLS):
        if i == 10:
            await asyncio.to_thread(postgres.pause)
            stopped.set()
        digits, hold_s = _patient(i)
        calls.append(await clinic.call(digits=digits, number=ENGLISH_NUMBER, hold_s=hold_s))
        if i % 10 == 5:
            abandons.append(asyncio.create_task(clinic.hang_up_after_join(calls[-1], 1)))
        await asyncio.sleep(0.5)  # patients arrive one every half second
    await asyncio.gather(*abandons)
    return calls


def _expected(trace: CallTrace) -> tuple[object, ...]:
    """What the account must say of a call, from what the observer saw happen to it."""
    if trace.operators_connected:
        return (False, None, [("universal", QueueOutcome.ANSWERED, trace.operators_connected[0])])
    if trace.abandoned:
        return (True, MissCause.ABANDONED, [("universal", QueueOutcome.ABANDONED, None)])
    assert trace.queues_joined == [], trace.queues_joined
    return (True, MissCause.HANGUP_IVR, [])


async def test_a_30_s_store_outage_under_50_calls_loses_nothing_and_logs_a_few_lines(
    clinic: SimulatedClinic, postgres: PostgresServer
) -> None:
    for operator in ("op101", "op102", "op103", "op104"):
        await clinic.set_operator(operator, "answer", ring_s=2, talk_s=2)
    url = postgres.url(postgres.create_database("outage")).render_as_string()
    counter = LineCounter()
    logbudget.install(counter)
    root = logging.getLogger()
    async with running(clinic.config, db_url=url, queue_log=clinic.asterisk.queue_log_path,
                       now=lambda: TUESDAY_10_KYIV) as parts:
        await parts.engine.wait_up(10)
        root.addHandler(counter)
        try:
            stopped = asyncio.Event()
            placing = asyncio.create_task(_place_calls(clinic, postgres, stopped))
            await stopped.wait()
            down_at = time.monotonic()
            await asyncio.sleep(OUTAGE_S)  # the outage itself is the drill's subject
            await asyncio.to_thread(postgres.resume)
            outage_s = time.monotonic() - down_at
            calls = await placing
            traces = {lid: await clinic.finished(lid, timeout=120) for lid in calls}
            await parts.controller.wait_handled(CALLS)
            caught_up = time.monotonic()
            await parts.tracker.reconcile()
            await parts.tracker.flush()
            caught_up = time.monotonic() - caught_up
        finally:
            root.removeHandler(counter)
        async with parts.sessions() as session:
            stored = {c.call_key: c for c in (await session.execute(select(Call))).scalars()}
            attempts = (await session.execute(
                select(Call.call_key, QueueAttempt.queue, QueueAttempt.outcome,
                       QueueAttempt.agent)
                .join(QueueAttempt, QueueAttempt.call_id == Call.id)
                .order_by(QueueAttempt.joined_at))).all()
        stats = parts.tracker.stats
    print(f"\noutage {outage_s:.1f} s under {CALLS} calls: {len(counter.lines)} log lines, "
          f"{stats.db_errors} failed writes, caught up {caught_up:.1f} s after the last call, "
          f"{stats.journaled} journal rows")
    for line in counter.lines:
        print("  |", line)

    assert set(stored) == set(calls)
    by_call: dict[str, list[tuple[object, ...]]] = {lid: [] for lid in calls}
    for key, queue, outcome, agent in attempts:
        by_call[key].append((queue, outcome, agent))
    account = {lid: (stored[lid].missed, stored[lid].miss_cause, by_call[lid]) for lid in calls}
    assert account == {lid: _expected(traces[lid]) for lid in calls}
    kinds = {expected[1] for expected in account.values()}
    assert kinds == {None, MissCause.ABANDONED, MissCause.HANGUP_IVR}  # each kind happened
    assert stats.db_errors > 0  # the outage was felt, not slept through
    assert len(counter.lines) < MAX_OUTAGE_LINES, counter.lines
