"""Time the staffing, demand and survey reports over a generated year, SQLite and PostgreSQL.

Fills a fresh SQLite file and a fresh PostgreSQL database (the test suite's throw-away server)
with ``bench/gen_year.py``'s year, adds operators' log-in sessions (three per queue, Monday to
Saturday 08:00-20:00 local: what the account writes from the engine's member log-ins), then
times, as median of --repeat runs:

- ``reports.staffing.compute_staffing`` over the last 4 whole weeks (what ``clinicall report
  --section staffing`` and the reports page use) and over 51 weeks;
- ``reports.demand.compute_demand`` over November and over the year;
- ``reports.survey.compute_survey`` by queue over the year.

    python bench/bench_staffing.py [--calls 50000] [--repeat 3] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from gen_year import DEFAULT_CALLS, QUEUES, YEAR, ZONE, generate  # noqa: E402

from clinicall.db import create_engine, session_factory  # noqa: E402
from clinicall.db.models import Agent, AgentSession  # noqa: E402
from clinicall.reports.demand import compute_demand  # noqa: E402
from clinicall.reports.staffing import compute_staffing  # noqa: E402
from clinicall.reports.survey import compute_survey  # noqa: E402
from clinicall.settings.loader import load_config  # noqa: E402

CONFIG = load_config(ROOT / "config" / "clinic.example.yaml")
OPERATORS_PER_QUEUE = 3
LAST_4_WEEKS = (datetime(YEAR, 11, 30, tzinfo=ZONE), datetime(YEAR, 12, 28, tzinfo=ZONE))
WEEKS_51 = (datetime(YEAR, 1, 5, tzinfo=ZONE), datetime(YEAR, 12, 28, tzinfo=ZONE))
NOVEMBER = (datetime(YEAR, 11, 1, tzinfo=ZONE), datetime(YEAR, 12, 1, tzinfo=ZONE))
THE_YEAR = (datetime(YEAR, 1, 1, tzinfo=ZONE), datetime(YEAR + 1, 1, 1, tzinfo=ZONE))


async def add_sessions(url: str) -> int:
    """Operators' log-ins: OPERATORS_PER_QUEUE per queue, Monday-Saturday 08:00-20:00."""
    engine = create_engine(url)
    queues = sorted({queue for queue, *_ in QUEUES.values()})
    try:
        async with session_factory(engine)() as session, session.begin():
            agents = [Agent(interface=f"op-{q}-{i}", name=f"op-{q}-{i}")
                      for q in queues for i in range(OPERATORS_PER_QUEUE)]  # fmt: skip
            session.add_all(agents)
            await session.flush()
            rows = []
            day = datetime(YEAR, 1, 1, tzinfo=ZONE)
            while day.year == YEAR:
                if day.isoweekday() != 7:
                    for agent in agents:
                        queue = agent.interface.split("-")[1]
                        rows.append({"agent_id": agent.id, "queue": queue,
                                     "login_at": day + timedelta(hours=8),
                                     "logout_at": day + timedelta(hours=20)})  # fmt: skip
                day += timedelta(days=1)  # wall-clock arithmetic: the next local midnight
            await session.execute(insert(AgentSession), rows)
            return len(rows)
    finally:
        await engine.dispose()


Work = Callable[[Any], Awaitable[Any]]


def works() -> list[tuple[str, Work]]:
    (s4, e4), (s51, e51), (sn, en), (sy, ey) = LAST_4_WEEKS, WEEKS_51, NOVEMBER, THE_YEAR
    return [
        ("staffing, 4 weeks", lambda s: compute_staffing(s, start=s4, end=e4, config=CONFIG)),
        ("staffing, 51 weeks",
         lambda s: compute_staffing(s, start=s51, end=e51, config=CONFIG)),
        ("demand, November", lambda s: compute_demand(s, start=sn, end=en, config=CONFIG)),
        ("demand, year", lambda s: compute_demand(s, start=sy, end=ey, config=CONFIG)),
        ("survey by queue, year", lambda s: compute_survey(
            s, start=sy, end=ey, by="queue", timezone=CONFIG.clinic.timezone)),
    ]  # fmt: skip


async def bench_one(name: str, url: str, repeat: int) -> list[list[str]]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows: list[list[str]] = []
    try:
        for label, work in works():
            times, cpus, lines = [], [], 0
            for _ in range(repeat):
                async with sessions() as session:
                    began, cpu_began = time.perf_counter(), time.process_time()
                    report = await work(session)
                    times.append(time.perf_counter() - began)
                    cpus.append(time.process_time() - cpu_began)
                lines = sum(len(s.rows) for s in report.sections.values())
            rows.append([name, label, f"{lines:,}", f"{min(times):.3f}",
                         f"{statistics.median(times):.3f}",
                         f"{statistics.median(cpus):.3f}"])  # fmt: skip
            print(
                f"  {name} {label}: {statistics.median(times):.3f} s", file=sys.stderr, flush=True
            )
    finally:
        await engine.dispose()
    return rows


def print_table(rows: list[list[str]]) -> None:
    # CPU: this process's (user + system) per report; PostgreSQL's own work is not in it
    head = ["db", "report", "rows out", "best s", "median s", "median CPU s"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


async def main_async(args: argparse.Namespace) -> None:
    from pg import PostgresServer

    backends = args.backends.split(",")
    work = Path(tempfile.mkdtemp(prefix="clinicall-bench-"))
    server = PostgresServer() if "postgres" in backends else None
    try:
        urls: dict[str, str] = {}
        if "sqlite" in backends:
            urls["sqlite"] = f"sqlite+aiosqlite:///{work / 'year.db'}"
        if server is not None:
            server.start()
            urls["postgres"] = server.url(server.create_database("bench")).render_as_string(
                hide_password=False
            )
        began = time.perf_counter()
        await generate(list(urls.values()), args.calls, args.seed)
        for url in urls.values():
            added = await add_sessions(url)
        print(
            f"loaded in {time.perf_counter() - began:.1f} s ({added:,} log-in sessions)",
            file=sys.stderr,
        )
        rows: list[list[str]] = []
        for name, url in urls.items():
            rows += await bench_one(name, url, args.repeat)
        print(f"\n{args.calls:,} generated inbound calls; median of {args.repeat}")
        print_table(rows)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
