"""The store's job rows in the policy's words (``routing.callback_jobs``)."""

from __future__ import annotations

from clinicall.db.callbacks import JobRow
from clinicall.routing.callback_jobs import CallbackJob, JobReason, JobState


def as_policy_job(row: JobRow) -> CallbackJob:
    return CallbackJob(id=row.id, phone=row.phone, queue=row.queue, reason=JobReason(row.reason),
                       arrived_at=row.arrived_at, due_at=row.due_at, state=JobState(row.state),
                       attempts=row.attempts)  # fmt: skip
