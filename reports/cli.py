"""``clinicall report``: the KPIs of a period as CSV, XLSX or JSON.

    clinicall report --from 2026-11-01 --to 2026-11-30 --by queue,hour --format csv \
        [--out FILE] [--config FILE] [--db URL] [--section queues|calls|topics]

``--from``/``--to`` are local dates in the clinic's time zone, both included.  The database is
``--db``, else the config's ``database.url``.  A progress bar goes to stderr, the report to
``--out`` or stdout.  Wire it with ``Command("report", ..., report_command)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import cast

from clinicall.reports.export import FORMATS, Format

DEFAULT_CONFIG = Path("config/clinic.yaml")
SECTIONS = ("queues", "calls", "topics")


class ReportUsageError(Exception):
    """A bad argument the user can fix (exit code 1 with one line)."""


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="date_from", required=True, type=date.fromisoformat,
                        metavar="YYYY-MM-DD", help="first local day of the period")
    parser.add_argument("--to", dest="date_to", required=True, type=date.fromisoformat,
                        metavar="YYYY-MM-DD", help="last local day of the period (included)")
    parser.add_argument("--by", default="queue",
                        help="group by any of queue,specialty,route,day,hour "
                             "(comma-separated; '' for totals; default: %(default)s)")
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--section", choices=SECTIONS, default="queues",
                        help="the table a CSV holds (XLSX and JSON hold all; "
                             "default: %(default)s)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help=f"the clinic config (default: {DEFAULT_CONFIG})")
    parser.add_argument("--db", metavar="URL", help="database URL (default: from the config)")


def report_command(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The CLI's ``Configure`` for ``report``: declares the arguments, returns the handler."""
    add_report_arguments(parser)
    return run_report


def run_report(args: argparse.Namespace) -> int:
    from clinicall.settings import ConfigError, load_config

    if args.date_to < args.date_from:
        print("clinicall report: error: --to is before --from", file=sys.stderr)
        return 1
    path = args.config or DEFAULT_CONFIG
    try:
        config = load_config(path)
    except (ConfigError, OSError) as exc:
        print(f"clinicall report: error: cannot load {path}: {exc}", file=sys.stderr)
        print(f"  -> run 'clinicall check-config {path}' or pass --config", file=sys.stderr)
        return 1
    if args.format == "xlsx" and args.out is None and sys.stdout.isatty():
        print("clinicall report: error: XLSX is binary: give --out FILE", file=sys.stderr)
        return 1
    return asyncio.run(_run(args, config, args.db or config.database.url))


async def _run(args: argparse.Namespace, config: object, url: str) -> int:
    from clinicall.db import create_engine, session_factory
    from clinicall.reports.export import write
    from clinicall.reports.grouping import BadGroupingError
    from clinicall.reports.kpi import compute
    from clinicall.reports.progress import ProgressBar
    from clinicall.settings.models import ClinicConfig

    assert isinstance(config, ClinicConfig)
    zone = config.clinic.zone
    start = datetime.combine(args.date_from, time(), zone)
    end = datetime.combine(args.date_to + timedelta(days=1), time(), zone)
    bar = ProgressBar(total=5)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            report = await compute(session, start=start, end=end, by=args.by, config=config,
                                   progress=bar.step)
    except BadGroupingError as exc:
        print(f"clinicall report: error: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    bar.step(f"writing {args.format.upper()}")
    fmt = cast(Format, args.format)
    if args.out is None:
        write(report, fmt, sys.stdout.buffer, args.section)
        sys.stdout.flush()
    else:
        with args.out.open("wb") as out:
            write(report, fmt, out, args.section)
    bar.finish(f"wrote {args.out or 'stdout'}")
    return 0
