"""The call account: the exact account of every call, from an engine's neutral facts and the IVR.

- ``CallTracker`` (``tracker.py``): journals and projects; the one object the app wires in.
- ``project_call`` (``project.py``): the pure projector, journal rows → ``CallRecord``.
- ``attempts.py``: one builder of queue attempts from queue facts, the durable record merged
  with the live view.
- ``codec.py``: facts in and out of the journal (one versioned kind per fact).
- ``LiveState`` (``live.py``): callers waiting and operators per queue, for the live view.
- ``TrackingConfig`` (``config.py``): country code, short-abandon threshold, time zone.

Nothing here knows which engine is underneath (an import-graph test keeps it so).
"""

from clinicall.controller.tracking.attempts import AttemptRecord, RingRecord
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.live import LiveState, QueueNow
from clinicall.controller.tracking.project import CallRecord, is_short_abandon, project_call
from clinicall.controller.tracking.rows import JournalRow
from clinicall.controller.tracking.tracker import CallTracker, TrackerStats

__all__ = [
    "AttemptRecord",
    "CallRecord",
    "CallTracker",
    "JournalRow",
    "LiveState",
    "QueueNow",
    "RingRecord",
    "TrackerStats",
    "TrackingConfig",
    "is_short_abandon",
    "project_call",
]
