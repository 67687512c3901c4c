"""Call tracking: the exact account of every call, from AMI, queue_log and the IVR.

- ``CallTracker`` (``tracker.py``): journals and projects; the one object the app wires in.
- ``project_call`` (``project.py``): the pure projector, journal rows → ``CallRecord``.
- ``LiveState`` (``live.py``): callers waiting and operators per queue, for the live view.
- ``TrackingConfig`` (``config.py``): country code, short-abandon threshold, time zone.
"""

from clinicall.controller.asterisk.marks import ClinicallMark, decode_mark
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
    "ClinicallMark",
    "JournalRow",
    "LiveState",
    "QueueNow",
    "RingRecord",
    "TrackerStats",
    "TrackingConfig",
    "decode_mark",
    "is_short_abandon",
    "project_call",
]
