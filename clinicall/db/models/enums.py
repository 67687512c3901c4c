"""The closed vocabularies of the store, as stored (their values are the stored strings).

The KPI definitions (docs/kpi.md) are written against these values; renaming one is a data
migration, adding one is not (the columns are plain VARCHAR).
"""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class IvrOutcome(StrEnum):
    """How a call left the IVR."""

    QUEUE = "queue"  # handed to a specialty queue
    SELF_SERVED = "selfserved"  # the IVR answered the question itself (hours, prices, ...)
    AFTER_HOURS = "afterhours"  # closed: message played (and perhaps a callback offered)
    HANGUP_IVR = "hangup_ivr"  # the caller hung up in the menu
    FAILED = "failed"  # technical failure
    FALLBACK = "fallback"  # controller unreachable: the dialplan's default queue took it


class HangupSide(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"
    ENGINE = "engine"  # the PBX stopped, restarted or crashed (docs/kpi.md)


class MissCause(StrEnum):
    """Why an inbound call reached no operator and was not self-served (clinic-level miss)."""

    HANGUP_IVR = "hangup_ivr"
    ABANDONED = "abandoned"
    TIMEOUT = "timeout"
    EXIT_KEY = "exitkey"
    EMPTY = "empty"
    AFTER_HOURS = "afterhours"
    FAILED = "failed"
    ENGINE = "engine"  # the PBX stopped, restarted or crashed: not the patient's doing


class QueueOutcome(StrEnum):
    """How a queue attempt ended (docs/kpi.md, KPI definitions)."""

    ANSWERED = "answered"  # connected to an operator
    ABANDONED = "abandoned"  # the caller hung up while waiting
    TIMEOUT = "timeout"  # max wait reached
    EXIT_KEY = "exitkey"  # left by a key (to overflow or callback)
    EMPTY = "empty"  # no operator could take the call
    CUT = "cut"  # the PBX stopped, restarted or crashed while the caller waited


class CallbackState(StrEnum):
    PENDING = "pending"  # waiting for due_at
    CLAIMED = "claimed"  # a controller took it and is dialling
    DONE = "done"  # the patient was reached
    FAILED = "failed"  # attempts exhausted
    CANCELLED = "cancelled"  # the patient called again and was answered, or staff cancelled


class CallbackReason(StrEnum):
    MISSED = "missed"  # automatic callback of a missed call
    REQUESTED = "requested"  # the caller asked for one in the IVR or the queue
    REMINDER = "reminder"  # appointment reminder
    MANUAL = "manual"  # staff scheduled it


class Role(StrEnum):
    OPERATOR = "operator"
    MANAGER = "manager"
    QUALITY = "quality"
    ADMIN = "admin"


class RecordingAction(StrEnum):
    PLAY = "play"
    DOWNLOAD = "download"
    DELETE = "delete"
    EXPORT = "export"
    NOTE = "note"  # a reviewer's time-stamped note (recording_notes)
    HOLD = "hold"  # a manual legal hold set or released


class ComplaintState(StrEnum):
    """A case's steps, in order (recordings.complaints): the patient gets a letter at once
    (acknowledged), a decision (resolved), then the clinic reviews the case (reviewed)."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    REVIEWED = "reviewed"


class SurveyQuestion(StrEnum):
    CSAT = "csat"  # 1-5
    NPS = "nps"  # 0-10


class JournalSource(StrEnum):
    """Which stream a journal row came from, whatever the engine (docs/architecture.md)."""

    LIVE = "live"  # the engine's live events (Asterisk AMI, FreeSWITCH event socket)
    RECORD = "record"  # the engine's durable record (Asterisk queue_log, FreeSWITCH CDR)
    IVR = "ivr"  # the controller's own IVR sessions
