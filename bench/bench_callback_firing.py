"""Callback firing: 10,000 pending jobs in the store, 1,000 of them due within the same minute;
how late each is dialled (firing delay p50/p99), jobs/s, memory per pending job and CPU per job,
beside a bare ``loop.call_at`` floor in the same run.

    python bench/bench_callback_firing.py [--pending 10000] [--due 1000] [--window-s 60]

The scheduler is the production one (``controller/callbacks``, a round every second, real
clock) on a SQLite store in a temporary folder, against the suite's scripted engine control
(every originate answered at once, ``--operators`` free operators), so what is measured is the
scheduler and the store, not a PBX.  The floor: one ``loop.call_at`` per due job at the same
instants, on the same loop, at the same time: the least delay any asyncio timer could give
under that load.  Firing delay = when the originate reached the engine - the job's ``due_at``.
Memory per pending job: the Python heap the controller holds (tracemalloc) after a round with
every job pending and none due, over the pending jobs, and the store's bytes per job.
CPU per job: the process's CPU time over the firing minute / jobs dialled (the floor's
callbacks and the fake engine included: an upper bound).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from callback_fakes import EXAMPLE, QUEUE, ScriptedControl, call_id_for  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings  # noqa: E402
from clinicall.controller.port import OriginateRequest, OriginateResult  # noqa: E402
from clinicall.db import create_engine, session_factory  # noqa: E402
from clinicall.db.callbacks import CallbackStore  # noqa: E402
from clinicall.db.migrate import upgrade  # noqa: E402
from clinicall.db.models import Callback, CallbackReason, CallbackState  # noqa: E402
from clinicall.db.writer import StoreWriter  # noqa: E402
from clinicall.settings.loader import load_config  # noqa: E402
from clinicall.settings.models import ClinicConfig  # noqa: E402


def always_open() -> ClinicConfig:
    """The example clinic open around the clock for clinic and patient alike (the bench must
    not depend on when it runs)."""
    data = load_config(EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}  # fmt: skip
    data["callbacks"].update({"patient_day": "00:00-24:00", "enabled": True})
    return ClinicConfig.model_validate(data)


class TimedControl(ScriptedControl):
    """The scripted engine, noting when each originate arrived (wall clock)."""

    def __init__(self, members: int, expected: int) -> None:
        super().__init__(members=members)
        self.arrived: dict[str, float] = {}
        self.expected, self.all_arrived = expected, asyncio.Event()

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        self.arrived.setdefault(request.key, time.time())
        if len(self.arrived) >= self.expected:
            self.all_arrived.set()
        return await super().originate(request)


def store_bytes(work: Path) -> int:
    """The SQLite store's size with its write-ahead log."""
    return sum(p.stat().st_size for p in work.glob("bench.db*"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


async def add_jobs(sessions: async_sessionmaker[AsyncSession], pending: int, due: int,
                   first_due: datetime, window_s: float) -> dict[int, float]:  # fmt: skip
    """``pending`` jobs: ``due`` of them due evenly over the window, the rest tomorrow.
    Returns each due job's id → its due instant (epoch seconds)."""
    tomorrow = first_due + timedelta(days=1)
    async with sessions.begin() as session, StoreWriter(session):
        rows = [Callback(phone=f"+38050{i:07d}", queue=QUEUE, reason=CallbackReason.MANUAL,
                         arrived_at=first_due - timedelta(minutes=5, milliseconds=-i),
                         due_at=(first_due + timedelta(seconds=window_s * i / due)
                                 if i < due else tomorrow),
                         created_at=first_due, state=CallbackState.PENDING, attempts=0)
                for i in range(pending)]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        return {row.id: row.due_at.timestamp() for row in rows[:due]}


async def run(args: argparse.Namespace, work: Path) -> None:
    url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    control = TimedControl(members=args.operators, expected=args.due)
    settings = SchedulerSettings(owner="bench", interval_s=1.0)
    store = CallbackStore(sessions, owner="bench", lease=settings.lease)
    scheduler = CallbackScheduler(control, store, always_open(), call_id_for=call_id_for,
                                  clock=lambda: datetime.now(UTC), settings=settings,
                                  country_code="380")  # fmt: skip
    before_db = store_bytes(work)
    first_due = datetime.now(UTC) + timedelta(seconds=args.lead_s)
    due_at = await add_jobs(sessions, args.pending, args.due, first_due, args.window_s)
    db_bytes = store_bytes(work) - before_db
    # the controller's memory with every job pending and none due yet (after a first round,
    # which fills the import and statement caches once)
    await scheduler.run_once()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    await scheduler.run_once()
    gc.collect()
    heap = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename"))
    tracemalloc.stop()

    loop = asyncio.get_running_loop()
    floor: list[float] = []
    floor_done = asyncio.Event()

    def fire(at: float) -> None:
        floor.append(time.time() - at)
        if len(floor) == len(due_at):
            floor_done.set()

    offset = time.time() - loop.time()  # wall clock = loop clock + offset
    for at in due_at.values():
        loop.call_at(at - offset, fire, at)
    cpu0, wall0 = time.process_time(), time.time()
    await scheduler.start()
    try:
        async with asyncio.timeout(args.lead_s + args.window_s + 60):
            await asyncio.gather(control.all_arrived.wait(), floor_done.wait())
    except TimeoutError:
        print("not every due job was dialled within a minute after the window", file=sys.stderr)
    await scheduler.attempts_done()
    cpu, wall = time.process_time() - cpu0, time.time() - wall0
    await scheduler.close()
    await engine.dispose()
    delays = [control.arrived[f"cb{job}-1"] - at for job, at in due_at.items()
              if f"cb{job}-1" in control.arrived]  # fmt: skip
    fired_span = max(control.arrived.values()) - min(control.arrived.values())
    print(f"{args.pending:,} pending jobs, {args.due:,} due over {args.window_s:.0f} s, "
          f"{args.operators} free operators; dialled {len(delays):,}, "
          f"duplicates {len(control.sent) - len(control.arrived)}")
    print(f"{'':24}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, values in (("scheduler (1 s rounds)", delays), ("loop.call_at floor", floor)):
        print(f"{name:24}{1000 * percentile(values, 0.5):10.1f}"
              f"{1000 * percentile(values, 0.99):10.1f}{1000 * max(values):10.1f}")
    print(f"jobs/s: {len(delays) / fired_span:.1f} over the firing span ({fired_span:.1f} s; "
          f"the due rate is {args.due / args.window_s:.1f}/s)")
    print(f"memory per pending job: controller heap {heap / args.pending:.1f} B "
          f"(round with all pending), store {db_bytes / args.pending:.0f} B")
    print(f"CPU per dialled job: {1000 * cpu / max(1, len(delays)):.2f} ms "
          f"({cpu:.1f} s CPU over {wall:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--window-s", type=float, default=60.0)
    parser.add_argument("--lead-s", type=float, default=5.0, help="before the first is due")
    parser.add_argument("--operators", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clinicall-bench-"))
    try:
        asyncio.run(run(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
