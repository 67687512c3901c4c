"""``clinicall simulate --day``: a whole simulated clinic day into a store, and its KPIs twice.

    clinicall simulate --day --db sqlite:///sim.db [--date 2026-11-24] [--seed 1]
        [--calls 400] [--operators 'ultrasound=2,universal=3' | advised] [--advice-weeks 1]
        [--callbacks on|off] [--survey off|ask|always] [--out KPIS.json] [--config FILE]
    clinicall simulate --day --engine asterisk [--speed 20] --db URL [--calls 400]

Draws the day's patients (``simclinic.day``), runs them through the real IVR and the real call
account on the fake engine (``simclinic.day_run``), then prints the day's KPIs per queue from
the simulation's own ground truth (``simclinic.day_kpis``) and checks them against
``clinicall report`` for the day, read from the account: it says "the same" or lists each
difference (exit 1).  With surveys due it prints the survey's figures (from what the patients
keyed), with callbacks on how each missed call was called back (``simclinic.day_afterwards``);
both are checked against their ``clinicall report`` sections the same way.  Last, the speed
(simulated seconds per wall second) and, per queue, whether the day reached the service level
target 80/20 within the day's noise (docs/simulate.md).
``--engine asterisk`` runs the day's peak hour through the real controller and the sandbox
Asterisk instead (``simclinic.peak_cli``).

The store is only ever the one ``--db`` names (a simulated day must never land in a clinic's
own account); like every command but ``db upgrade`` it must exist and be migrated already, and
a day it already holds calls of is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from clinicall.cli_args import (
    CommandError,
    Handler,
    checked_db_option,
    config_arg,
    config_path,
    load,
)
from clinicall.reports.table import Value

if TYPE_CHECKING:
    from clinicall.settings.models import ClinicConfig

TARGET_SL, TARGET_T = 80.0, 20
KPI_COLUMNS = ("offered", "answered", "abandoned", "short_abandoned", "timeout",
               "service_level", "asa", "wait_p90", "wait_max", "aht_talk")  # fmt: skip


def simulate_command(parser: argparse.ArgumentParser) -> Handler:
    """The CLI's ``Configure`` for ``simulate``."""
    config_arg(parser, positional=False)
    parser.add_argument("--day", action="store_true", required=True,
                        help="simulate one whole clinic day (the only mode so far)")
    parser.add_argument("--db", metavar="URL", required=True,
                        help="the store the day goes into (made with 'clinicall db upgrade "
                             "--db URL'); never the clinic's own")
    parser.add_argument("--date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the local day (default: the last weekday before today)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same day")
    parser.add_argument("--calls", type=float, default=400.0, metavar="N",
                        help="expected calls in the day (default: %(default)s)")
    parser.add_argument("--operators", default="", metavar="QUEUE=N,...|advised",
                        help="operators per queue all day (default: the config's at penalty "
                             "0, at least one), or 'advised': Erlang A's staffing advice of "
                             "the weeks before the day, hour by hour")
    parser.add_argument("--advice-weeks", type=int, default=1, metavar="N",
                        help="with --operators advised: whole weeks of history (default: "
                             "%(default)s)")
    parser.add_argument("--engine", choices=("fake", "asterisk"), default="fake",
                        help="fake: the whole day in virtual time (default); asterisk: the "
                             "day's peak hour, --speed times faster, through the real "
                             "controller and the sandbox Asterisk (root)")
    parser.add_argument("--callbacks", choices=("on", "off"), default=None,
                        help="call the day's missed calls back with the callback scheduler "
                             "(default: the config's callbacks.enabled)")
    parser.add_argument("--survey", choices=("off", "ask", "always"), default=None,
                        help="every queue's post-call survey (default: each queue's own)")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="also write the simulation's own KPIs of the day here (JSON)")
    parser.add_argument("--speed", type=float, default=None, metavar="N",
                        help="time compression for --engine asterisk (default 20; the fake "
                             "engine runs as fast as it can and prints its speed)")
    return run


def run(args: argparse.Namespace) -> int:
    from clinicall.db.status import StoreNotReady, require_current
    from clinicall.settings import ClinicConfig

    if args.speed is not None and args.engine != "asterisk":
        raise CommandError("--speed is for --engine asterisk; the fake engine runs as fast as "
                           "it can", "leave out --speed")
    if args.engine == "asterisk" and (args.callbacks or args.survey):
        raise CommandError("--callbacks and --survey are for the fake engine: the peak hour on "
                           "Asterisk runs the config as it is",
                           "leave out --callbacks and --survey")
    if not 0 < args.calls <= 100_000:
        raise CommandError(f"--calls: expected 1-100000 calls a day, got {args.calls:g}")
    if not 1 <= args.advice_weeks <= 104:
        raise CommandError(f"--advice-weeks: expected 1-104, got {args.advice_weeks}")
    url = checked_db_option(args.db)
    path: Path = config_path(args)
    config = load(path)
    assert isinstance(config, ClinicConfig)
    try:
        asyncio.run(require_current(url))
    except StoreNotReady as exc:
        raise CommandError(str(exc), exc.hint) from None
    day = args.date or _last_weekday(datetime.now(config.clinic.zone).date())
    if args.engine == "asterisk":
        from clinicall.simclinic.peak_cli import simulate_peak

        return asyncio.run(simulate_peak(args, config, url, day))
    return asyncio.run(_simulate(args, with_options(config, callbacks=args.callbacks,
                                                    survey=args.survey), url, day))


def with_options(config: ClinicConfig, *, callbacks: str | None,
                 survey: str | None) -> ClinicConfig:  # fmt: skip
    """The config with ``--callbacks`` and ``--survey`` applied (None: as configured)."""
    update: dict[str, object] = {}
    if callbacks is not None:
        update["callbacks"] = config.callbacks.model_copy(update={"enabled": callbacks == "on"})
    if survey is not None:
        update["queues"] = {qid: queue.model_copy(update={"survey": survey})
                            for qid, queue in config.queues.items()}  # fmt: skip
    return config.model_copy(update=update) if update else config


def _last_weekday(today: date) -> date:
    day = today - timedelta(days=1)
    while day.isoweekday() > 5:
        day -= timedelta(days=1)
    return day


async def _simulate(args: argparse.Namespace, config: object, url: str, day: date) -> int:
    from sqlalchemy import func, select

    from clinicall.db import create_engine, session_factory
    from clinicall.db.models import Call
    from clinicall.ivr.plan import IvrPlan
    from clinicall.reports.kpi import compute
    from clinicall.settings.models import ClinicConfig
    from clinicall.simclinic import staffing_plan as sp
    from clinicall.simclinic.day import DayProfile, generate_day, topics_of
    from clinicall.simclinic.day_afterwards import afterwards, summary_lines
    from clinicall.simclinic.day_kpis import (
        call_kpis,
        differences,
        queue_kpis,
        service_levels,
    )
    from clinicall.simclinic.day_run import run_day

    assert isinstance(config, ClinicConfig)
    engine = create_engine(url)
    sessions = session_factory(engine)
    zone = config.clinic.zone
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    try:
        async with sessions() as session:
            held = (await session.execute(select(func.count()).select_from(Call).where(
                Call.started_at >= start, Call.started_at < end))).scalar_one()
        if held:
            raise CommandError(f"the store already holds {held} calls of {day}: the report "
                               "of the day would mix them with the simulated ones",
                               "give another --date or a new --db")
        if args.operators.strip() == sp.ADVISED:
            async with sessions() as session:
                staffing, advice = await sp.advised_staffing(session, config, day,
                                                             args.advice_weeks)
            if not advice:
                raise CommandError(f"no staffing advice for {day:%A}s in the "
                                   f"{args.advice_weeks} weeks before {day}",
                                   "simulate a day of those weeks first")
            print(f"operators by Erlang A's advice of the {args.advice_weeks} weeks before "
                  f"{day}: " + ", ".join(f"{q} {h:02d}h={n}"
                                        for (q, h), n in sorted(advice.items())))
        else:
            try:
                counts = sp.parse_operators(args.operators, config)
            except sp.StaffingError as exc:
                raise CommandError(str(exc), "e.g. --operators 'ultrasound=2,universal=3'"
                                   ) from None
            staffing = sp.fixed_staffing(counts)
            print("operators all day: " + ", ".join(f"{q}={n}" for q, n in counts.items()))
        plan = IvrPlan.compile(config)
        patients = generate_day(DayProfile(calls=args.calls), topics_of(plan), plan, day=day,
                                numbers=[config.numbers[0].number], seed=args.seed)
        done = await run_day(config, patients, day=day, staffing=staffing, sessions=sessions,
                             call_prefix=f"sim-{day:%Y%m%d}-{args.seed}")
        ours = queue_kpis(done.attempts, short_abandon_s=config.kpi.short_abandon_s,
                          service_level_s={q: c.service_level_s
                                           for q, c in config.queues.items()},
                          default_sl_s=config.kpi.service_level_s)  # fmt: skip
        calls = call_kpis(done.calls)
        async with sessions() as session:
            report = await compute(session, start=start, end=end, by="queue", config=config)
            after = await afterwards(session, config, done)
    finally:
        await engine.dispose()
    _print_kpis(day, ours, calls)
    print("\n".join(summary_lines(after)))
    diffs = differences(ours, calls, report) + after.differences
    rounds = (f", {done.scheduler_rounds} callback scheduler rounds"
              if config.callbacks.enabled else "")  # fmt: skip
    print(f"simulated {done.simulated_s:.0f} s of calls in {done.wall_s:.1f} s{rounds}: speed "
          f"{done.speed:.0f}x (simulated seconds per wall second)")
    levels = service_levels(done.attempts, t_s=TARGET_T,
                            short_abandon_s=config.kpi.short_abandon_s)  # fmt: skip
    _print_target(levels)
    if args.out is not None:
        _write_kpis(args.out, {
            "day": day.isoformat(), "seed": args.seed, "calls": calls, "queues": ours,
            "service_level_80_20": {q: {"service_level": sl, "counted": n}
                                    for q, (sl, n) in levels.items()},
            "survey": after.survey, "callbacks": after.callbacks,
            "simulated_s": done.simulated_s, "wall_s": round(done.wall_s, 3),
            "report_differences": diffs,
        })  # fmt: skip
    if diffs:
        print("the account's report differs from the simulation:")
        print("\n".join(f"  {line}" for line in diffs))
        return 1
    print(f"clinicall report for {day} (read from the account) gives the same KPIs")
    return 0


def _write_kpis(out: Path, kpis: Mapping[str, object]) -> None:
    try:
        out.write_text(json.dumps(kpis, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror}",
                           "choose a writable --out file") from None
    print(f"the simulation's KPIs are in {out}")


def _print_kpis(day: date, queues: Mapping[str, Mapping[str, Value]],
                calls: Mapping[str, Value]) -> None:  # fmt: skip
    print(f"simulated day {day}: {calls['inbound']} calls, {calls['self_served']} self-served, "
          f"{calls['missed']} missed")
    print(f"{'queue':<12}" + "".join(f"{c:>16}" for c in KPI_COLUMNS))
    for queue, row in queues.items():
        cells = ["-" if row[c] is None else str(row[c]) for c in KPI_COLUMNS]
        print(f"{queue:<12}" + "".join(f"{c:>16}" for c in cells))


def sl_noise(offered: int, target: float = TARGET_SL) -> float:
    """Two standard errors of a day's service level (in points) around the target, for a
    queue offered ``offered`` calls: the binomial sd of a share ``target`` of them."""
    if offered <= 0:
        return 100.0
    p = target / 100
    return 200 * math.sqrt(p * (1 - p) / offered)


def _print_target(levels: dict[str, tuple[float | None, int]]) -> bool:
    """One line per queue: its service level within 20 s against the target; True when every
    queue reached it, at least within the noise."""
    everywhere = True
    for queue, (sl, counted) in levels.items():
        if sl is None:
            continue
        noise = sl_noise(counted)
        verdict = ("reached" if sl >= TARGET_SL else
                   "reached within the noise" if sl >= TARGET_SL - noise else "missed")
        everywhere = everywhere and verdict != "missed"
        print(f"{queue}: SL {sl} % within {TARGET_T} s, target {TARGET_SL:g} % (noise "
              f"±{noise:.1f} points at {counted} calls): {verdict}")
    return everywhere
