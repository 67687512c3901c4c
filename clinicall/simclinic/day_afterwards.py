"""After the calls: the simulated day's post-call survey and callbacks, worked out, checked and
printed for ``clinicall simulate --day``.

The survey figures come from what the patients keyed (``day_survey_kpis``) and are checked
against ``clinicall report --section survey --by queue``; the callbacks are followed missed call
by missed call (``day_callback_kpis``: the intake's decision in the store, the engine's own
dials) and the callbacks report's first-attempt figures are checked against the dials.  Both
reports are computed as the ``report`` command computes them, from the day's store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.reports.callbacks import callback_report
from clinicall.reports.settings import KpiSettings
from clinicall.reports.survey import compute_survey
from clinicall.reports.table import Value
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.day_callback_kpis import (
    ALL,
    RETURN_KPIS,
    Return,
    callback_differences,
    read_returns,
    return_kpis,
)
from clinicall.simclinic.day_run import DayRun
from clinicall.simclinic.day_survey_kpis import SURVEY_KPIS, survey_differences, survey_kpis


@dataclass(slots=True)
class Afterwards:
    """The day's survey and callback figures, and where the reports differ from them."""

    day_end: datetime
    survey: dict[str, dict[str, Value]] = field(default_factory=dict)
    returns: list[Return] = field(default_factory=list)
    callbacks: dict[str, dict[str, Value]] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)


async def afterwards(session: AsyncSession, config: ClinicConfig, run: DayRun) -> Afterwards:
    """The figures of the day ``run`` (surveys when any was due, callbacks when the scheduler
    ran) with the reports' differences from them."""
    out = Afterwards(day_end=run.end)
    settings = KpiSettings.from_config(config)
    if run.handed_back:
        out.survey = survey_kpis(run.handed_back, run.surveys)
        report = await compute_survey(session, start=run.start, end=run.end, by="queue",
                                      timezone=config.clinic.timezone,
                                      always=settings.survey_always, settings=settings)
        out.differences += survey_differences(out.survey, report)
    if config.callbacks.enabled:
        out.returns = await read_returns(session, config, run.calls, run.dials)
        out.callbacks = return_kpis(out.returns, run.end)
        report = await callback_report(
            session, start=run.start, end=run.end, timezone=config.clinic.timezone,
            unreturned_after=timedelta(minutes=config.kpi.unreturned_after_min))
        out.differences += callback_differences(out.returns, report)
    return out


def _table(title: str, rows: Mapping[str, Mapping[str, Value]],
           columns: tuple[str, ...]) -> list[str]:  # fmt: skip
    widths = [max(len(c) + 2, 9) for c in columns]
    lines = [title, f"{'queue':<12}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths,
                                                                           strict=True))]
    for queue, row in rows.items():
        cells = ["-" if row.get(c) is None else str(row.get(c)) for c in columns]
        lines.append(f"{queue:<12}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths,
                                                                          strict=True)))
    return lines


def summary_lines(after: Afterwards) -> list[str]:
    """What ``clinicall simulate --day`` prints about the survey and the callbacks."""
    lines: list[str] = []
    if after.survey:
        day = after.survey[ALL]
        lines.append(f"post-call survey: {day['due']} due, {day['answered']} answered "
                     f"(response rate {day['response_rate']} %), {day['partial']} partial; "
                     f"CSAT {day['csat_mean']} ({day['csat_answers']} answers), NPS "
                     f"{day['nps']} ({day['nps_answers']} answers)")  # fmt: skip
        lines += _table("survey by queue (the operator's queue)", after.survey, SURVEY_KPIS)
    if after.callbacks:
        day = after.callbacks[ALL]
        lines.append(f"callbacks: {day['missed']} missed calls, {day['jobs']} jobs "
                     f"({day['merged']} merged, {day['skipped']} skipped), {day['dialled']} "
                     f"dialled in the day, {day['answered']} answered; first attempt "
                     f"after the call could be returned p50 {day['delay_p50']} s, p90 "
                     f"{day['delay_p90']} s, max {day['delay_max']} s; on time "
                     f"{day['on_time']}, late {day['late']}, carried to the next day "
                     f"{day['carried']}")  # fmt: skip
        lines += _table("callbacks by queue (- : missed before choosing one; the front desk "
                        "calls back)", after.callbacks, RETURN_KPIS)
        skipped = Counter(str(r.reason) for r in after.returns if r.decision == "skip")
        if skipped:
            lines.append("  no job by the callback policy: " + ", ".join(
                f"{n} {reason}" for reason, n in sorted(skipped.items())))
        lines += [f"  {line}" for line in late_lines(after.returns, after.day_end)]
    return lines


def late_lines(returns: list[Return], day_end: datetime) -> list[str]:
    """One line per missed call not called back on time within the day (see
    ``day_callback_kpis``), and per one never taken in."""
    lines = []
    for item in returns:
        if item.decision is None:
            lines.append(f"{item.call_id}: never taken in")
        elif item.decision == "skip" or item.due_by is None or item.window is None \
                or item.window >= day_end or item.on_time():
            continue
        elif item.first_dial is None:
            lines.append(f"{item.call_id} ({item.queue or '-'}): not dialled within the day")
        else:
            late = (item.first_dial - item.due_by).total_seconds()
            lines.append(f"{item.call_id} ({item.queue or '-'}): first attempt {late:.0f} s "
                         f"after its target")  # fmt: skip
    return lines
