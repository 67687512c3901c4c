"""The staffing report in a few lines a manager reads: what it rests on and what to do next.

``clinicall report --section staffing`` writes the table (per queue and hour of week) to its
output and these lines to stderr: per queue the most operators either model asks for, the
hours under- and over-staffed against the operators logged in, the fitted AHT and patience;
then the model's assumptions and the next step.  From the report alone (reports.staffing).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from clinicall.reports.staffing import ASSUMPTIONS
from clinicall.reports.table import Report, Value

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHOWN_HOURS = 6  # under-staffed hours named per queue (the table has them all)
NEXT_STEP = (
    "Next: move operators' shifts into the under-staffed hours and out of the over-staffed "
    "ones (the table's 'staffed' column), then run the report again over the weeks after the "
    "change to check.  'logged_in' counts the log-ins the call account recorded (operators "
    "logging in through the console or the engine's QueueAdd); operators fixed in the queue "
    "config are not logged in or out, so a queue staffed only by them shows no 'logged_in'."
)


def _hour(row: dict[str, Value]) -> str:
    weekday, hour = row["weekday"], row["hour"]
    assert isinstance(weekday, int)
    return f"{WEEKDAYS[weekday - 1]} {hour:02d}:00"


def _max(rows: list[dict[str, Value]], column: str) -> str:
    values = [v for r in rows if isinstance(v := r[column], int)]
    return str(max(values)) if values else "-"


def summary_lines(report: Report) -> list[str]:
    """The lines (see the module docstring)."""
    by_queue: defaultdict[str, list[dict[str, Value]]] = defaultdict(list)
    for row in report.section("staffing").rows:
        by_queue[str(row["queue"])].append(row)
    about = {str(r["queue"]): r for r in report.section("assumptions").rows}
    first, last = report.start.date(), (report.end - timedelta(days=1)).date()  # local days
    weeks = (report.end - report.start).total_seconds() / (7 * 86400)
    lines = [f"Staffing advice from {weeks:g} weeks of calls ({first} to {last}), per queue "
             "and hour of the week:"]  # fmt: skip
    for queue, a in sorted(about.items()):
        rows = by_queue.get(queue, [])
        under = [r for r in rows if r.get("staffed") == "under"]
        over = [r for r in rows if r.get("staffed") == "over"]
        named = ", ".join(_hour(r) for r in under[:SHOWN_HOURS])
        more = f" and {len(under) - SHOWN_HOURS} more" if len(under) > SHOWN_HOURS else ""
        patience = (f"patience {a['patience_s']} s from {a['abandons']} abandons"
                    if a["patience_s"] is not None else "no abandons: Erlang C only")  # fmt: skip
        presence = (f"under-staffed {len(under)} h{': ' + named + more if under else ''}; "
                    f"over-staffed {len(over)} h"
                    if any(r.get("staffed") for r in rows) else "no log-ins recorded")  # fmt: skip
        lines.append(
            f"  {queue}: {len(rows)} hours with calls, at most "
            f"{_max(rows, 'agents_erlang_a')} operators by Erlang A "
            f"({_max(rows, 'agents_erlang_c')} by Erlang C); {presence}; "
            f"AHT {a['aht_s']} s, {patience}; target {a['target_sl']} %."
        )
    lines += [f"Model: {ASSUMPTIONS}", NEXT_STEP]
    return lines
