"""The same store's reports, before and after a change to the store or the account: equal?

    # with the code before the change (a checkout of it; --old-layout for trees older than the
    # clinicall namespace), on a generated year at that code's migration head:
    python bench/report_equality.py snapshot sqlite+aiosqlite:///year.db before.json --old-layout
    # with the code after the change, on a copy of that store migrated to the new head (its
    # hourly sums dropped, so the new code sums every hour itself):
    python bench/report_equality.py migrate sqlite+aiosqlite:///year-copy.db
    python bench/report_equality.py snapshot sqlite+aiosqlite:///year-copy.db after.json
    python bench/report_equality.py compare before.json after.json

A snapshot is every row of 28 reports: a day, a month and the year 2026 in Europe/Kyiv, total
and by queue, route, day (and queue,hour below a year), each from the hourly sums and from the
rows alone.  ``compare`` prints the reports that differ (none is the expected answer).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Europe/Kyiv")
PERIODS = {"day": (datetime(2026, 3, 11, tzinfo=ZONE), datetime(2026, 3, 12, tzinfo=ZONE)),
           "month": (datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 4, 1, tzinfo=ZONE)),
           "year": (datetime(2026, 1, 1, tzinfo=ZONE), datetime(2027, 1, 1, tzinfo=ZONE))}
GROUPINGS = ["", "queue", "route", "day", "queue,hour"]
SERVICE_LEVEL_S = {"ultrasound": 20, "gynecology": 20, "pediatrics": 20, "therapy": 20,
                   "universal": 30}  # fmt: skip


async def snapshot(url: str, *, old_layout: bool) -> dict[str, Any]:
    reports = "reports" if old_layout else "clinicall.reports"
    db = importlib.import_module("clinicall.db")
    compute = importlib.import_module(reports).compute
    settings = importlib.import_module(f"{reports}.settings").KpiSettings(
        timezone="Europe/Kyiv", queue_service_level_s=SERVICE_LEVEL_S)
    engine = db.create_engine(url)
    found: dict[str, Any] = {}
    try:
        for period, (start, end) in PERIODS.items():
            for by in GROUPINGS:
                if period == "year" and by == "queue,hour":
                    continue
                for sums in (True, False):
                    began = time.perf_counter()
                    async with db.session_factory(engine)() as session:
                        report = await compute(session, start=start, end=end, by=by,
                                               config=settings, hourly_sums=sums)
                    found[f"{period}|{by}|{'sums' if sums else 'rows'}"] = report.to_dict()
                    print(f"{period:5} {by or 'total':10} {'sums' if sums else 'rows'} "
                          f"{time.perf_counter() - began:6.2f} s", file=sys.stderr, flush=True)
    finally:
        await engine.dispose()
    return found


async def migrate(url: str) -> None:
    from sqlalchemy import text

    from clinicall.db import create_engine, current_revision, upgrade

    before = await current_revision(url)
    began = time.perf_counter()
    await upgrade(url)
    took = time.perf_counter() - began
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in ("kpi_queue_hours", "kpi_call_hours", "survey_hours",
                          "demand_hours", "staffing_hours", "kpi_wait_counts",
                          "kpi_wait_blocks", "kpi_hours_built", "kpi_changed_hours"):
                await connection.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()
    print(f"{before} -> {await current_revision(url)} in {took:.1f} s; hourly sums dropped")


def compare(first: Path, second: Path) -> int:
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    rows = sum(len(s["rows"]) for r in a.values() for s in r["sections"].values())
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    print(f"{len(a)} reports, {rows:,} rows: {len(differ)} differ {differ}")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    snap = commands.add_parser("snapshot", help="every report row of a store, as JSON")
    snap.add_argument("url")
    snap.add_argument("out", type=Path)
    snap.add_argument("--old-layout", action="store_true",
                      help="the code predates the clinicall namespace (reports at the top)")
    commands.add_parser("migrate", help="upgrade a store, drop its hourly sums").add_argument(
        "url")
    both = commands.add_parser("compare", help="two snapshots: equal?")
    both.add_argument("first", type=Path)
    both.add_argument("second", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))  # the checkout being measured
    if args.command == "snapshot":
        found = asyncio.run(snapshot(args.url, old_layout=args.old_layout))
        args.out.write_text(json.dumps(found, sort_keys=True, default=str))
    elif args.command == "migrate":
        asyncio.run(migrate(args.url))
    else:
        sys.exit(compare(args.first, args.second))


if __name__ == "__main__":
    main()
