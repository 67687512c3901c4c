"""The complaint report (issue 13): per queue and topic, the cases opened in the period, how
many were acknowledged and resolved, how many are overdue now, and the time to acknowledge
and to resolve (p50/p90, nearest rank like every percentile of the reports, docs/kpi.md),
counted from the case's opening.

A case's queue is the queue of its call's answered attempt (the last one: after a transfer,
the operator who ended it), else the first queue the call waited in, else '' (a case opened
by hand from a letter, or a voice message left before any queue).  Its topic is the case's
own, else its call's IVR route, else ''.  Used by ``clinicall report --section complaints``
and ``GET /api/complaints/report``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import Call, Complaint, ComplaintState, QueueAttempt
from clinicall.reports.callbacks import nearest_rank
from clinicall.reports.table import Column, Report, Section, Value

KEYS = [Column("queue"), Column("topic")]
METRICS = [
    Column("opened", "count", "cases opened in the period"),
    Column("acknowledged", "count", "of them, acknowledged to the patient"),
    Column("resolved", "count", "of them, resolved (a decision)"),
    Column("overdue", "count", "of them, past a deadline now"),
    Column("acknowledge_p50", "s", "median time from opening to the acknowledgement"),
    Column("acknowledge_p90", "s", "90th percentile time to acknowledge"),
    Column("resolve_p50", "s", "median time from opening to the decision"),
    Column("resolve_p90", "s", "90th percentile time to resolve"),
]
UNRESOLVED = (ComplaintState.NEW, ComplaintState.ACKNOWLEDGED, ComplaintState.INVESTIGATING)


@dataclass
class _Group:
    opened: int = 0
    overdue: int = 0
    acknowledge: list[float] = field(default_factory=list)
    resolve: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Value]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {"opened": self.opened, "acknowledged": len(self.acknowledge),
                "resolved": len(self.resolve), "overdue": self.overdue,
                "acknowledge_p50": rounded(nearest_rank(self.acknowledge, 0.5)),
                "acknowledge_p90": rounded(nearest_rank(self.acknowledge, 0.9)),
                "resolve_p50": rounded(nearest_rank(self.resolve, 0.5)),
                "resolve_p90": rounded(nearest_rank(self.resolve, 0.9))}


async def compute_complaints(session: AsyncSession, *, start: datetime, end: datetime,
                             timezone: str, now: datetime) -> Report:
    """Cases opened in [start, end); ``overdue`` as of ``now``."""
    cases = list(await session.scalars(
        select(Complaint).where(Complaint.opened_at >= start, Complaint.opened_at < end)))
    call_ids = {c.call_id for c in cases if c.call_id is not None}
    queues: dict[int, str] = {}
    routes: dict[int, str | None] = {}
    if call_ids:
        for call_id, route in await session.execute(
                select(Call.id, Call.route).where(Call.id.in_(call_ids))):
            routes[call_id] = route
        attempts = await session.execute(
            select(QueueAttempt.call_id, QueueAttempt.queue, QueueAttempt.connected_at)
            .where(QueueAttempt.call_id.in_(call_ids))
            .order_by(QueueAttempt.call_id, QueueAttempt.joined_at))  # fmt: skip
        for call_id, queue, connected in attempts:
            if connected is not None or call_id not in queues:
                queues[call_id] = queue
    groups: defaultdict[tuple[str, str], _Group] = defaultdict(_Group)
    for case in cases:
        queue = queues.get(case.call_id, "") if case.call_id is not None else ""
        topic = case.topic or (routes.get(case.call_id) if case.call_id is not None else None)
        group = groups[(queue, topic or "")]
        group.opened += 1
        if case.acknowledged_at is not None:
            group.acknowledge.append((case.acknowledged_at - case.opened_at).total_seconds())
        if case.resolved_at is not None:
            group.resolve.append((case.resolved_at - case.opened_at).total_seconds())
        if _overdue(case, now):
            group.overdue += 1
    section = Section("complaints", list(KEYS), list(METRICS))
    for (queue, topic) in sorted(groups):
        section.rows.append({"queue": queue, "topic": topic, **groups[(queue, topic)].row()})
    return Report(start, end, timezone, ["queue", "topic"], {"complaints": section})


def _overdue(case: Complaint, now: datetime) -> bool:
    ack_due = case.acknowledge_due_at
    if case.state is ComplaintState.NEW and ack_due is not None and ack_due < now:
        return True
    return case.state in UNRESOLVED and case.due_at < now
