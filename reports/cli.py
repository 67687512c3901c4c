"""``clinicall report``: the KPIs of a period as CSV, XLSX or JSON.

    clinicall report --from 2026-11-01 --to 2026-11-30 --by queue,hour --format csv \
        [--out FILE] [--config FILE] [--db URL] [--section queues|...|staffing]

``--section survey`` is the post-call survey's report instead (docs/kpi.md; ``--by`` any of
queue, operator, route, day, hour); ``--section demand`` the demand analytics (``--by`` is not
used; a CSV holds the hour-of-week heatmap, JSON and XLSX every table); ``--section
staffing`` the operators needed per queue and hour of week from the period's calls
(``--target-sl 80/20``, ``--max-abandon 5``); ``--section complaints`` the complaint cases
opened in the period per queue and topic (reports.complaints); ``--section estimates`` the
announced wait estimates' error beside the engine's own (docs/callbacks.md, "Estimated wait");
``--section callbacks`` the callback figures (a CSV holds the summary row; JSON and XLSX also
the jobs per cause and the reminders per result; docs/callbacks.md, "Visibility").
``--from``/``--to``
are local dates in the clinic's time zone, both included.  The config is found by the one rule
of every command (:mod:`clinicall.settings.location`); the database is ``--db``, else the
config's ``database.url``, and must be migrated already: a report never creates or changes a
store (:mod:`clinicall.db.status`).  A progress bar goes to stderr, the report to ``--out`` or
stdout.  Wire it with ``Command("report", ..., report_command)``.

``clinicall staffing --weeks 4 [--to SUNDAY] [--target-sl 80/20] [--max-abandon 5]`` is
``--section staffing`` over the last whole weeks (``Command("staffing", ...,
staffing_command)``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from clinicall.reports.export import FORMATS, Format
from clinicall.settings.location import DEFAULTS

if TYPE_CHECKING:
    from clinicall.reports.staffing import Target

SECTIONS = ("queues", "calls", "topics", "resolution")
#: Sections that are reports of their own (their ``--by`` and tables differ from the KPIs').
OWN_REPORTS = ("survey", "demand", "staffing", "complaints", "estimates", "callbacks")
#: The table a CSV of an own report holds (XLSX and JSON hold all of its tables).
CSV_TABLE = {"survey": "survey", "demand": "heatmap", "staffing": "staffing",
             "complaints": "complaints", "estimates": "estimates", "callbacks": "callbacks"}


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
    parser.add_argument("--section", choices=(*SECTIONS, *OWN_REPORTS), default="queues",
                        help="the table a CSV holds (XLSX and JSON hold all; "
                             "default: %(default)s)")
    parser.add_argument("--target-sl", default="80/20", metavar="PCT/SECONDS",
                        help="staffing: the service level to reach (default: %(default)s; "
                             "'80' alone: each queue's own service_level_s)")
    parser.add_argument("--max-abandon", type=float, default=100.0, metavar="PCT",
                        help="staffing: the highest acceptable abandon rate, Erlang A "
                             "(default: no limit)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help=f"the clinic config (YAML); when none is given: {DEFAULTS}")
    parser.add_argument("--db", metavar="URL", help="database URL (default: from the config)")


STAFFING_HELP = """\
--section staffing: operators needed per queue and hour of the week.
  The period is the history: give whole weeks, at least one (four is a good window), e.g.
  --from 2026-11-02 --to 2026-11-29.  The forecast of each hour is the mean of the same hour
  of the week over the window; AHT is talk + the queue's wrap-up; patience is fitted from the
  abandons (answered callers count as having waited at least that long).
  Model: Poisson arrivals at the forecast rate; exponential handle time and patience;
  operators dedicated to the queue; first come, first served; each hour in steady state.
  Erlang A allows for callers hanging up; Erlang C (beside it) does not and asks for more.
  'logged_in' and 'staffed' compare with the operators' recorded log-ins (under / ok / over).
  A summary and the next step go to stderr; the table to --out or stdout."""


def report_command(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The CLI's ``Configure`` for ``report``: declares the arguments, returns the handler."""
    add_report_arguments(parser)
    parser.epilog = STAFFING_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return run_report


def staffing_command(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The CLI's ``Configure`` for ``staffing``: ``report --section staffing`` over the last
    ``--weeks`` whole weeks (Monday to Sunday, clinic time) before today or ``--to``."""
    parser.add_argument("--weeks", type=int, default=4, metavar="N",
                        help="whole weeks of history (default: %(default)s)")
    parser.add_argument("--to", dest="date_to", type=date.fromisoformat, default=None,
                        metavar="YYYY-MM-DD", help="the last day of the history, a Sunday "
                        "(default: the Sunday before today, clinic time)")
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--target-sl", default="80/20", metavar="PCT/SECONDS",
                        help="the service level to reach (default: %(default)s; '80' alone: "
                             "each queue's own service_level_s)")
    parser.add_argument("--max-abandon", type=float, default=100.0, metavar="PCT",
                        help="the highest acceptable abandon rate, Erlang A (default: no limit)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help=f"the clinic config (YAML); when none is given: {DEFAULTS}")
    parser.add_argument("--db", metavar="URL", help="database URL (default: from the config)")
    parser.epilog = "\n".join([
        "clinicall staffing: the report's --section staffing over the last --weeks whole weeks",
        "  (Monday to Sunday, clinic time) ending on --to or the Sunday before today.",
        "  The forecast of each hour is the mean of the same hour of the week over the weeks;",
        "  AHT is talk + the queue's wrap-up; patience is fitted from the abandons (answered",
        "  callers count as having waited at least that long).",
        *STAFFING_HELP.splitlines()[5:]])  # fmt: skip
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return run_staffing


def run_staffing(args: argparse.Namespace) -> int:
    if not 1 <= args.weeks <= 104:
        return _fail(f"--weeks: expected 1-104 whole weeks, got {args.weeks}",
                     "four is a good window: --weeks 4")  # fmt: skip
    if args.date_to is None:
        today = datetime.now(_clinic_zone(args.config)).date()
        args.date_to = today - timedelta(days=today.isoweekday())  # the Sunday before
    elif args.date_to.isoweekday() != 7:
        return _fail(f"--to {args.date_to} is a {args.date_to:%A}: the history ends on a "
                     "Sunday", "e.g. --to 2026-11-29")  # fmt: skip
    args.date_from = args.date_to - timedelta(days=7 * args.weeks - 1)
    args.section, args.by = "staffing", ""
    return run_report(args)


def _clinic_zone(config: Path | None) -> ZoneInfo:
    """The config's time zone, or UTC when it cannot be read (``run_report`` then says why)."""
    from clinicall.settings import ConfigError, load_config
    from clinicall.settings.location import NoConfigFound, find_config

    try:
        return load_config(find_config(config)).clinic.zone
    except (NoConfigFound, ConfigError, OSError):
        return ZoneInfo("UTC")


def _fail(message: str, hint: str = "") -> int:
    print(f"clinicall report: error: {message}", file=sys.stderr)
    if hint:
        print(f"  -> {hint}", file=sys.stderr)
    return 1


def parse_target(text: str, max_abandon: float) -> Target:
    """``80/20`` (80 % within 20 s) or ``80`` (within each queue's own T), and a percentage."""
    from clinicall.reports.staffing import Target

    pct, _, seconds = text.partition("/")
    try:
        sl, t = float(pct) / 100, float(seconds) if seconds else None
    except ValueError:
        raise ValueError(f"--target-sl: expected PCT/SECONDS, got {text!r}") from None
    if not (0 < sl < 1) or (t is not None and not 0 < t <= 3600):
        raise ValueError(f"--target-sl: expected 0-100 % within 1-3600 s, got {text!r}")
    if not 0 <= max_abandon <= 100:
        raise ValueError(f"--max-abandon: expected 0-100 %, got {max_abandon}")
    return Target(sl=sl, t_s=t, max_abandon=max_abandon / 100)


def run_report(args: argparse.Namespace) -> int:
    from clinicall.db.status import StoreNotReady, require_current
    from clinicall.settings import ConfigError, load_config
    from clinicall.settings.dburl import check_database_url
    from clinicall.settings.location import NoConfigFound, find_config

    if args.date_to < args.date_from:
        return _fail("--to is before --from")
    days = (args.date_to - args.date_from).days + 1
    if args.section == "staffing" and days < 7:
        return _fail(f"a staffing forecast needs at least one whole week of history (got "
                     f"{days} days)", "e.g. four weeks, Monday to Sunday: "
                     "--from 2026-11-02 --to 2026-11-29")  # fmt: skip
    if args.section == "staffing" and days % 7:
        print(f"clinicall report: warning: {days} days is not whole weeks: some hours of the "
              "week occur once more than others, and their forecast is high", file=sys.stderr)
    try:
        args.target = parse_target(args.target_sl, args.max_abandon)
    except ValueError as exc:
        return _fail(str(exc), "e.g. --target-sl 80/20 --max-abandon 5")
    try:
        path = find_config(args.config)
    except NoConfigFound as exc:
        return _fail(str(exc), "give --config FILE")
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"{path}: {len(exc.errors)} problem(s) in the config",
                     f"fix them and run 'clinicall check-config {path}'")
    if args.format == "xlsx" and args.out is None and sys.stdout.isatty():
        return _fail("XLSX is binary: give --out FILE")
    url = args.db or config.database.url
    try:
        check_database_url(url)
    except ValueError as exc:
        return _fail(f"--db: {exc}", "give a SQLite or PostgreSQL URL")
    try:
        asyncio.run(require_current(url))
    except StoreNotReady as exc:
        return _fail(str(exc), exc.hint)
    return asyncio.run(_run(args, config, url))


async def _run(args: argparse.Namespace, config: object, url: str) -> int:
    from clinicall.db import create_engine, session_factory
    from clinicall.reports.callbacks import callback_report
    from clinicall.reports.complaints import compute_complaints
    from clinicall.reports.demand import compute_demand
    from clinicall.reports.export import write
    from clinicall.reports.grouping import BadGroupingError
    from clinicall.reports.kpi import compute
    from clinicall.reports.progress import ProgressBar
    from clinicall.reports.settings import KpiSettings
    from clinicall.reports.staffing import compute_staffing
    from clinicall.reports.survey import compute_survey
    from clinicall.reports.wait_estimates import estimate_report
    from clinicall.settings.models import ClinicConfig

    assert isinstance(config, ClinicConfig)
    zone = config.clinic.zone
    start = datetime.combine(args.date_from, time(), zone)
    end = datetime.combine(args.date_to + timedelta(days=1), time(), zone)
    bar = ProgressBar(total=6)  # compute's five steps and the writing
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            if args.section == "survey":
                report = await compute_survey(
                    session, start=start, end=end, by=args.by, timezone=config.clinic.timezone,
                    always=KpiSettings.from_config(config).survey_always,
                    settings=KpiSettings.from_config(config))
            elif args.section == "demand":
                report = await compute_demand(session, start=start, end=end, config=config)
            elif args.section == "complaints":
                report = await compute_complaints(session, start=start, end=end,
                                                  timezone=config.clinic.timezone,
                                                  now=datetime.now(zone))
            elif args.section == "staffing":
                report = await compute_staffing(session, start=start, end=end, config=config,
                                                target=args.target)
            elif args.section == "estimates":
                report = await estimate_report(session, start=start, end=end,
                                               timezone=config.clinic.timezone)
            elif args.section == "callbacks":
                report = await callback_report(
                    session, start=start, end=end, timezone=config.clinic.timezone,
                    unreturned_after=timedelta(minutes=config.kpi.unreturned_after_min))
            else:
                report = await compute(session, start=start, end=end, by=args.by,
                                       config=config, progress=bar.step)
    except BadGroupingError as exc:
        print(f"clinicall report: error: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    bar.step(f"writing {args.format.upper()}")
    fmt = cast(Format, args.format)
    table = CSV_TABLE.get(args.section, args.section)
    if args.out is None:
        write(report, fmt, sys.stdout.buffer, table)
        sys.stdout.flush()
    else:
        with args.out.open("wb") as out:
            write(report, fmt, out, table)
    bar.finish(f"wrote {args.out or 'stdout'}")
    if args.section == "staffing":
        from clinicall.reports.staffing_summary import summary_lines

        print("\n".join(summary_lines(report)), file=sys.stderr)
    return 0
