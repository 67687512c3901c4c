"""``clinicall simulate --day --engine asterisk [--speed 20]``: the day's peak hour through the
real controller and the sandbox Asterisk (``simclinic.peak_hour``), its KPIs per queue from
what Asterisk reported to the run's observer, checked against the report the account gives.

Needs root and the sandbox's cached Debian root (as ``clinicall demo``); the calls happen now,
so they are the store's calls of today (clinic time), whatever ``--date`` drew the day from.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta

from clinicall.cli_args import CommandError
from clinicall.settings.models import ClinicConfig

#: The KPIs the observer's traces give exactly (talk times and the reason a caller left
#: unanswered without hanging up are the account's alone).
PEAK_KPIS = ("offered", "answered", "abandoned", "short_abandoned", "abandon_rate",
             "service_level", "asa", "wait_p50", "wait_p90", "wait_max")  # fmt: skip
DEFAULT_SPEED = 20.0


async def simulate_peak(args: argparse.Namespace, config: ClinicConfig, url: str,
                        day: date) -> int:  # fmt: skip
    from sqlalchemy import func, select

    from clinicall.db import create_engine, session_factory
    from clinicall.db.models import Call
    from clinicall.ivr.plan import IvrPlan
    from clinicall.reports.kpi import compute
    from clinicall.sandbox.errors import SandboxUnavailable
    from clinicall.sandbox.rootfs import ensure_root
    from clinicall.simclinic.day import DayProfile, generate_day, hour_starts, topics_of
    from clinicall.simclinic.day_kpis import differences, queue_kpis
    from clinicall.simclinic.peak_hour import run_peak_hour

    speed = args.speed or DEFAULT_SPEED
    if not 1 <= speed <= 100:
        raise CommandError(f"--speed: expected 1-100, got {speed:g}",
                           "20 plays an hour in three minutes")  # fmt: skip
    if args.operators:
        raise CommandError("--operators is for the fake engine: on Asterisk the config's "
                           "operators answer", "leave out --operators")  # fmt: skip
    try:
        root = ensure_root(progress=print)
    except SandboxUnavailable as exc:
        raise CommandError(f"the sandbox Asterisk cannot run here: {exc}",
                           "run as root on Debian, as the demo does") from None
    zone = config.clinic.zone
    today = datetime.now(zone).date()
    start = datetime.combine(today, time(), zone)
    end = datetime.combine(today + timedelta(days=1), time(), zone)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            held = (await session.execute(select(func.count()).select_from(Call).where(
                Call.started_at >= start, Call.started_at < end))).scalar_one()  # fmt: skip
        if held:
            raise CommandError(f"the store already holds {held} calls of today ({today}): "
                               "the report would mix them with the peak hour's",
                               "give a new --db")  # fmt: skip
        profile = DayProfile(calls=args.calls)
        plan = IvrPlan.compile(config)
        peak = max(range(24), key=lambda h: profile.hour_weights[h])
        patients = [p for p in generate_day(profile, topics_of(plan), plan, day=day,
                                            numbers=[config.numbers[0].number], seed=args.seed)
                    if p.arrival.astimezone(zone).hour == peak]  # fmt: skip
        open_at = hour_starts(day, zone)[peak] + timedelta(minutes=30)
        print(f"peak hour {peak:02d}:00 of {day}: {len(patients)} patients, {speed:g}x faster "
              f"(about {3600 / speed / 60:.0f} min of calls, then the last ones end)")
        run = await run_peak_hour(config, patients, root=root, sessions=sessions, speed=speed,
                                  open_at=open_at, handle_s=profile.handle_s,
                                  progress=print)  # fmt: skip
        ours = queue_kpis(run.attempts(), short_abandon_s=config.kpi.short_abandon_s,
                          service_level_s={q: c.service_level_s
                                           for q, c in config.queues.items()},
                          default_sl_s=config.kpi.service_level_s)  # fmt: skip
        async with sessions() as session:
            report = await compute(session, start=start, end=end, by="queue", config=config)
    finally:
        await engine.dispose()
    print(f"{'queue':<12}" + "".join(f"{c:>16}" for c in PEAK_KPIS))
    for queue, row in ours.items():
        print(f"{queue:<12}" + "".join(f"{'-' if row[c] is None else row[c]!s:>16}"
                                      for c in PEAK_KPIS))  # fmt: skip
    print(f"an hour of {len(run.traces)} calls in {run.wall_s:.0f} s: speed {run.speed:.1f}x "
          "(simulated seconds per wall second; the patients' side is compressed, Asterisk's "
          "timers run at their real length)")
    diffs = differences(ours, {}, report, kpis=PEAK_KPIS, call_kpis=())
    if diffs:
        print("the account's report differs from what Asterisk reported:")
        print("\n".join(f"  {line}" for line in diffs))
        return 1
    print(f"clinicall report for {today} (read from the account) gives the same KPIs as "
          "Asterisk's own events")
    return 0
