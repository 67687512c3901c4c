"""Two controllers' callback schedulers on one PostgreSQL, 10,000 due jobs, one fake engine:
the duplicate dials (must be 0), counted from the engine's own list of originates.

    python bench/bench_two_controllers.py [--jobs 10000] [--operators 250]

The suite runs the same check with 1,000 jobs (tests/integration/test_callback_two_controllers.py);
10,000 take minutes on a shared two-core machine, so they are run here.  The engine is the
suite's scripted ``EngineControl`` (every originate answered at once), so what is measured is
the claims' exclusion and the store's cost per job, not a PBX.  Exit status 1 when any job was
dialled twice or not at all.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from callback_fakes import TUESDAY_10_KYIV, Clock, ScriptedControl, add_due_jobs, scheduler  # noqa: E402

from clinicall.db import create_engine, session_factory  # noqa: E402
from clinicall.db.migrate import upgrade  # noqa: E402


async def run(url: str, jobs: int, operators: int) -> int:
    await upgrade(url)
    engines = [create_engine(url) for _ in range(2)]  # a pool per controller
    try:
        one, two = (session_factory(e) for e in engines)
        await add_due_jobs(one, jobs)
        engine = ScriptedControl(members=operators)
        clock = Clock(TUESDAY_10_KYIV + timedelta(minutes=1))
        first = scheduler(one, engine, clock, owner="controller-1")
        second = scheduler(two, engine, clock, owner="controller-2")
        rounds, began, cpu_began = 0, time.perf_counter(), time.process_time()
        while len(engine.sent) < jobs and rounds < 10 * jobs // operators:
            rounds += 1
            await asyncio.gather(first.run_once(), second.run_once())
            await asyncio.gather(first.attempts_done(), second.attempts_done())
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
        dials = Counter(request.number for request in engine.sent)
        duplicates = sum(n - 1 for n in dials.values())
        print(f"jobs {jobs:,}  operators {operators}  rounds {rounds}  dialled {len(dials):,}  "
              f"duplicate dials {duplicates}  {elapsed:.1f} s  {len(engine.sent) / elapsed:.0f} "
              f"jobs/s  {1000 * cpu / max(1, len(engine.sent)):.2f} ms CPU/job (this process: "
              "both schedulers and SQLite)")  # fmt: skip
        return 0 if duplicates == 0 and len(dials) == jobs else 1
    finally:
        for e in engines:
            await e.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--operators", type=int, default=250)
    args = parser.parse_args()
    from pg import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        url = server.url(server.create_database("bench")).render_as_string(hide_password=False)
        status = asyncio.run(run(url, args.jobs, args.operators))
    finally:
        server.stop()
    sys.exit(status)


if __name__ == "__main__":
    main()
