"""Many warm reports of one period in one process: the CPU a report costs, client and server.

``bench_reports.py`` times a warm report as the median of a few runs; on PostgreSQL the
backend's CPU is counted in 10 ms ticks, so a few runs of a 20 ms report say little about
where it went.  This runs ``--reports`` reports (default 100) of one period on a store that
``gen_year.py`` filled (its sums made current by a few reports first, which are not counted)
and prints the means over all of them: this process's CPU, the database server's CPU (for a
PostgreSQL server on this machine: the postmaster's processes, as ``bench_reports.py``
counts them) and the wall time of each report, median and 90th percentile, a report being
``compute`` in a new session and the session's end (the connection back in the pool).  Every
report must equal the first (printed: ``same``).

    python bench/bench_warm_report.py URL [--period day|month|year] [--reports 100]
        [--rounds 1]

With ``--rounds`` above one the rounds run one after the other in the same process, each
printed on its own line.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bench_reports import PERIODS, SETTINGS, _postmaster, _server_cpu_s  # noqa: E402

from clinicall.db import create_engine, session_factory  # noqa: E402
from clinicall.reports import compute  # noqa: E402

WARM_UP = 5


async def run(url: str, period: str, reports: int, rounds: int) -> bool:
    """Print one line per round; returns whether every report equalled the first."""
    _, start, end, by, _ = next(p for p in PERIODS if p[0] == period)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        postmaster = await _postmaster(sessions)

        async def one() -> dict[str, object]:
            async with sessions() as s:
                report = await compute(s, config=SETTINGS, start=start, end=end, by=by)
            return report.to_dict()

        first = await one()
        for _ in range(WARM_UP - 1):
            await one()
        same = True
        for _ in range(rounds):
            walls: list[float] = []
            server_before = _server_cpu_s(postmaster)
            client_before = time.process_time()
            for _ in range(reports):
                began = time.perf_counter()
                found = await one()
                walls.append(time.perf_counter() - began)
                same = same and found == first
            client = (time.process_time() - client_before) / reports * 1000
            server = (_server_cpu_s(postmaster) - server_before) / reports * 1000
            walls.sort()
            p90 = walls[min(len(walls) - 1, -(-9 * len(walls) // 10) - 1)]
            print(f"{engine.dialect.name} {period} x{reports}: CPU {client + server:.1f} ms "
                  f"(client {client:.1f}, server {server:.1f}), wall median "
                  f"{statistics.median(walls) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms, "
                  f"same: {'yes' if same else 'NO'}", flush=True)
        return same
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--period", choices=[p[0] for p in PERIODS], default="day")
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not asyncio.run(run(args.url, args.period, args.reports, args.rounds)):
        sys.exit(1)


if __name__ == "__main__":
    main()
