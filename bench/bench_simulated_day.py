"""The simulated clinic day's speed on the fake engine, SQLite and PostgreSQL (docs/simulate.md).

Runs ``clinicall simulate --day``'s pipeline (the real IVR interpreter, the fake engine's
queues, the real call account writing the store) for days of --calls expected calls, one fresh
store per run, and prints per backend: calls, the simulated span (first arrival to the last
fact), the wall time, and the speed factor (simulated seconds per wall second), each the median
of --repeat runs with seeds 1..repeat.

    python bench/bench_simulated_day.py [--calls 400] [--repeat 3] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from clinicall.db import create_engine, session_factory, upgrade  # noqa: E402
from clinicall.ivr.plan import IvrPlan  # noqa: E402
from clinicall.settings.loader import load_config  # noqa: E402
from clinicall.simclinic.day import DayProfile, generate_day, topics_of  # noqa: E402
from clinicall.simclinic.day_run import run_day  # noqa: E402
from clinicall.simclinic.staffing_plan import fixed_staffing, parse_operators  # noqa: E402

CONFIG = load_config(ROOT / "config" / "clinic.example.yaml")
DAY = date(2026, 11, 24)


async def one_day(url: str, calls: float, seed: int) -> tuple[int, float, float]:
    """(calls, simulated s, wall s) of one day into the fresh store ``url``."""
    await upgrade(url)
    engine = create_engine(url)
    plan = IvrPlan.compile(CONFIG)
    patients = generate_day(DayProfile(calls=calls), topics_of(plan), plan, day=DAY,
                            numbers=[CONFIG.numbers[0].number], seed=seed)  # fmt: skip
    try:
        staffing = fixed_staffing(parse_operators("", CONFIG))
        run = await run_day(CONFIG, patients, day=DAY, staffing=staffing,
                            sessions=session_factory(engine), call_prefix=f"bench-{seed}")
    finally:
        await engine.dispose()
    return len(patients), run.simulated_s, run.wall_s


async def main_async(args: argparse.Namespace) -> None:
    from pg import PostgresServer

    backends = args.backends.split(",")
    work = Path(tempfile.mkdtemp(prefix="clinicall-bench-"))
    server = PostgresServer() if "postgres" in backends else None
    try:
        if server is not None:
            server.start()
        print(f"{'backend':>9} {'calls':>6} {'simulated s':>12} {'wall s':>8} {'speed':>8}")
        for backend in backends:
            runs = []
            for seed in range(1, args.repeat + 1):
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{work / f'day{seed}.db'}"
                else:
                    assert server is not None
                    url = server.url(server.create_database(f"day{seed}")).render_as_string(
                        hide_password=False)  # fmt: skip
                runs.append(await one_day(url, args.calls, seed))
            calls = statistics.median(r[0] for r in runs)
            simulated = statistics.median(r[1] for r in runs)
            wall = statistics.median(r[2] for r in runs)
            speed = statistics.median(r[1] / r[2] for r in runs)
            print(f"{backend:>9} {calls:>6.0f} {simulated:>12.0f} {wall:>8.2f} {speed:>7.0f}x")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=float, default=400.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
