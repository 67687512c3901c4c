"""The simulated day's post-call survey figures, from what the patients keyed.

Worked out per queue from the simulation's ground truth (the calls handed back for the survey:
due; each survey as keyed: ``survey_port.SurveyTruth``) with docs/kpi.md's definitions and the
report's rounding, with no query of the store; :func:`survey_differences` compares them with
``clinicall report --section survey --by queue`` for the day (``reports.survey``), so the
survey's way through the real flow, the account and the report's sums is checked whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from clinicall.reports.table import Report, Value, ratio
from clinicall.simclinic.floor import HandedBack
from clinicall.simclinic.survey_port import SurveyTruth

#: The survey figures compared with the report, in its column names.
SURVEY_KPIS = ("due", "answered", "response_rate", "partial", "csat_answers", "csat_mean",
               "nps_answers", "nps")  # fmt: skip
PROMOTER, DETRACTOR = 9, 6  # 9-10 promote; 0-6 detract (docs/kpi.md)
ALL = "all"


def survey_kpis(due: Iterable[HandedBack], keyed: Iterable[SurveyTruth]
                ) -> dict[str, dict[str, Value]]:  # fmt: skip
    """Per queue (the one whose operator the survey rates), and ``all`` the queues: the
    figures of :data:`SURVEY_KPIS`."""
    due_by: defaultdict[str, int] = defaultdict(int)
    for back in due:
        due_by[back.queue] += 1
        due_by[ALL] += 1
    by: defaultdict[str, list[SurveyTruth]] = defaultdict(list)
    for truth in keyed:
        by[truth.queue].append(truth)
        by[ALL].append(truth)
    return {queue: _figures(due_by[queue], by[queue])
            for queue in sorted(due_by, key=lambda q: (q == ALL, q))}


def _figures(due: int, surveys: list[SurveyTruth]) -> dict[str, Value]:
    answered = [s for s in surveys if s.answered]
    csat = [s.csat for s in surveys if s.csat is not None]
    nps = [s.nps for s in surveys if s.nps is not None]
    promoters = sum(1 for n in nps if n >= PROMOTER)
    detractors = sum(1 for n in nps if n <= DETRACTOR)
    return {
        "due": due, "answered": len(answered), "response_rate": ratio(len(answered), due),
        "partial": sum(1 for s in answered if not s.complete),
        "csat_answers": len(csat),
        "csat_mean": round(sum(csat) / len(csat), 3) if csat else None,
        "nps_answers": len(nps),
        "nps": round(100.0 * (promoters - detractors) / len(nps), 2) if nps else None,
    }  # fmt: skip


def survey_differences(ours: Mapping[str, Mapping[str, Value]], report: Report) -> list[str]:
    """Every survey figure on which the simulation and the report (``by`` queue) differ, one
    line each; empty when they agree."""
    found = {str(row["queue"]): row for row in report.section("survey").rows}
    lines = []
    for queue in sorted((set(ours) - {ALL}) | set(found)):
        mine, theirs = ours.get(queue, {}), found.get(queue, {})
        for kpi in SURVEY_KPIS:
            if mine.get(kpi) != theirs.get(kpi):
                lines.append(f"survey {queue} {kpi}: simulation {mine.get(kpi)}, "
                             f"report {theirs.get(kpi)}")  # fmt: skip
    return lines
