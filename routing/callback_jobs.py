"""A callback job as the policy sees it: the values the store's ``callbacks`` row will hold.

``routing`` may not import the store (docs/architecture.md, "Layers"), so the job's states and
reasons are spelled here with the store's own strings (``CallbackState``, ``CallbackReason``
in clinicall/db/models/enums.py; a test keeps them equal).  ``arrived_at`` is the job's place
in line, the arrival of the earliest call it stands for; docs/callbacks.md says where it is
stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class JobState(StrEnum):
    PENDING = "pending"  # waiting for due_at
    CLAIMED = "claimed"  # a controller took it and is dialling
    DONE = "done"  # the patient was reached
    FAILED = "failed"  # attempts exhausted
    CANCELLED = "cancelled"  # the patient called again and was answered, or staff cancelled


#: A job still to be done: new missed calls merge into it, an answered call settles it.
OPEN_STATES = frozenset({JobState.PENDING, JobState.CLAIMED})


class JobReason(StrEnum):
    MISSED = "missed"  # automatic callback of a missed call
    REQUESTED = "requested"  # the caller asked for one in the IVR or the queue
    REMINDER = "reminder"  # appointment reminder
    MANUAL = "manual"  # staff scheduled it


@dataclass(frozen=True, slots=True)
class CallbackJob:
    """One job: whom to call (``phone``, E.164), for which queue, and where it stands."""

    id: int
    phone: str
    queue: str | None
    reason: JobReason
    arrived_at: datetime
    due_at: datetime
    state: JobState = JobState.PENDING
    attempts: int = 0

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES
