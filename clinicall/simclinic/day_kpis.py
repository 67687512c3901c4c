"""The simulated day's KPIs from the simulation's own ground truth, by docs/kpi.md's definitions.

Worked out here from what the simulation decided (each queue stay's outcome, wait and talk in
whole milliseconds, each call's IVR outcome), with no query of the store, so that comparing
them with ``clinicall report`` for the day (:func:`differences`) checks the whole account:
the facts, the journal, the projector and the report's SQL.  Rounded as the report rounds
(seconds to the millisecond, percentages to 0.01).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from clinicall.reports.table import Report, Value, normalize, ratio
from clinicall.simclinic.floor import FloorAttempt

#: The queue KPIs compared with the report, in its column names.
QUEUE_KPIS = ("offered", "answered", "abandoned", "short_abandoned", "timeout", "empty",
              "abandon_rate", "service_level", "asa", "wait_p50", "wait_p90", "wait_max",
              "aht_talk")  # fmt: skip
CALL_KPIS = ("inbound", "self_served", "missed")
ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class CallTruth:
    """One simulated call: its IVR outcome and whether an operator answered it; who called,
    when it started and ended, and the queue of its last stay (None: it waited in none)."""

    call_id: str
    ivr_outcome: str  # queue | fallback | selfserved | afterhours | hangup
    answered: bool
    last_attempt: str | None  # the outcome of its last queue stay
    caller: str = ""
    arrived: datetime | None = None
    ended: datetime | None = None
    queue: str | None = None

    @property
    def missed(self) -> bool:
        """docs/kpi.md: reached no operator and was not self-served."""
        return not self.answered and (self.ivr_outcome in ("hangup", "afterhours")
                                      or self.last_attempt in ("abandoned", "timeout", "empty"))


def _seconds(ms: int) -> Value:
    return normalize(ms / 1000, "s")


def _nearest_rank(ordered: list[int], p: int) -> Value:
    """docs/kpi.md: the ⌈p·n/100⌉-th smallest."""
    return _seconds(ordered[math.ceil(p * len(ordered) / 100) - 1]) if ordered else None


def queue_kpis(attempts: Iterable[FloorAttempt], *, short_abandon_s: int,
               service_level_s: Mapping[str, int], default_sl_s: int
               ) -> dict[str, dict[str, Value]]:  # fmt: skip
    """Per queue: the KPIs of :data:`QUEUE_KPIS` (docs/kpi.md)."""
    by_queue: defaultdict[str, list[FloorAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_queue[attempt.queue].append(attempt)
    out: dict[str, dict[str, Value]] = {}
    for queue, stays in sorted(by_queue.items()):
        answered = [a for a in stays if a.outcome == ANSWERED]
        gave_up = [a for a in stays if a.outcome == "abandoned"]
        short = [a for a in gave_up if (a.wait_ms or 0) < short_abandon_s * 1000]
        counted = len(stays) - len(short)
        t_ms = service_level_s.get(queue, default_sl_s) * 1000
        waits = sorted(a.wait_ms or 0 for a in answered)
        out[queue] = {
            "offered": len(stays), "answered": len(answered),
            "abandoned": len(gave_up) - len(short), "short_abandoned": len(short),
            "timeout": sum(1 for a in stays if a.outcome == "timeout"),
            "empty": sum(1 for a in stays if a.outcome == "empty"),
            "abandon_rate": ratio(len(gave_up) - len(short), counted),
            "service_level": ratio(sum(1 for w in waits if w <= t_ms), counted),
            "asa": normalize(sum(waits) / len(waits) / 1000, "s") if waits else None,
            "wait_p50": _nearest_rank(waits, 50), "wait_p90": _nearest_rank(waits, 90),
            "wait_max": _seconds(waits[-1]) if waits else None,
            "aht_talk": normalize(sum(a.talk_ms or 0 for a in answered) / len(answered)
                                  / 1000, "s") if answered else None,
        }  # fmt: skip
    return out


def call_kpis(calls: Iterable[CallTruth]) -> dict[str, Value]:
    """Inbound, self-served and missed calls (docs/kpi.md: missed = reached no operator and
    was not self-served: hung up in the IVR, after hours, or left its last queue unanswered)."""
    calls = list(calls)
    return {
        "inbound": len(calls),
        "self_served": sum(1 for c in calls if c.ivr_outcome == "selfserved"),
        "missed": sum(1 for c in calls if c.missed),
    }


def differences(queues: Mapping[str, Mapping[str, Value]], calls: Mapping[str, Value],
                report: Report, *, kpis: Sequence[str] = QUEUE_KPIS,
                call_kpis: Sequence[str] = CALL_KPIS) -> list[str]:  # fmt: skip
    """Every KPI on which the simulation's own figures and the report (``by`` queue) differ,
    one line each; empty when the two sources agree."""
    found = {str(row["queue"]): row for row in report.section("queues").rows}
    lines = []
    for queue in sorted(set(queues) | set(found)):
        ours, theirs = queues.get(queue, {}), found.get(queue, {})
        for kpi in kpis:
            if ours.get(kpi) != theirs.get(kpi):
                lines.append(f"{queue} {kpi}: simulation {ours.get(kpi)}, "
                             f"report {theirs.get(kpi)}")  # fmt: skip
    totals = report.section("calls").rows
    theirs_calls = totals[0] if totals else {}
    for kpi in call_kpis:
        if calls.get(kpi) != theirs_calls.get(kpi):
            lines.append(f"calls {kpi}: simulation {calls.get(kpi)}, "
                         f"report {theirs_calls.get(kpi)}")  # fmt: skip
    return lines


def service_levels(attempts: Iterable[FloorAttempt], *, t_s: float,
                   short_abandon_s: int) -> dict[str, tuple[float | None, int]]:  # fmt: skip
    """Per queue: answered within ``t_s`` / (offered − short abandons) in percent, as the
    report's service level but with one T for every queue (a target such as 80/20), and the
    number it is a share of."""
    by_queue: defaultdict[str, list[FloorAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_queue[attempt.queue].append(attempt)
    out = {}
    for queue, stays in sorted(by_queue.items()):
        short = sum(1 for a in stays if a.outcome == "abandoned"
                    and (a.wait_ms or 0) < short_abandon_s * 1000)  # fmt: skip
        within = sum(1 for a in stays if a.outcome == ANSWERED
                     and (a.wait_ms or 0) <= t_s * 1000)  # fmt: skip
        out[queue] = (ratio(within, len(stays) - short), len(stays) - short)
    return out
