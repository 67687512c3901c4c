"""The store's tables (SQLAlchemy 2 typed declarative models), all registered on ``Base``."""

from clinicall.db.models.agents import Agent, AgentPause, AgentSession
from clinicall.db.models.analytics_rollups import (
    analytics_hours_built,
    demand_hours,
    staffing_hours,
    survey_hours,
)
from clinicall.db.models.appointments import Appointment, AppointmentState
from clinicall.db.models.base import Base
from clinicall.db.models.callbacks import Callback, CallbackAttempt, CallbackIntake
from clinicall.db.models.calls import Call, QueueAttempt, RingAttempt
from clinicall.db.models.complaints import Complaint, ComplaintCall, ComplaintEvent
from clinicall.db.models.enums import (
    CallbackReason,
    CallbackState,
    ComplaintState,
    Direction,
    HangupSide,
    IvrOutcome,
    JournalSource,
    MissCause,
    QueueOutcome,
    RecordingAction,
    Role,
    SurveyQuestion,
)
from clinicall.db.models.journal import IngestState, JournalEvent
from clinicall.db.models.recordings import (
    ComplaintRecording,
    Recording,
    RecordingAccess,
    RecordingHold,
    RecordingNote,
)
from clinicall.db.models.rollups import (
    kpi_call_hours,
    kpi_changed_hours,
    kpi_hours_built,
    kpi_queue_hours,
    kpi_wait_blocks,
    kpi_wait_counts,
)
from clinicall.db.models.surveys import SurveyAnswer
from clinicall.db.models.users import User
from clinicall.db.models.wait_estimates import WaitEstimate
from clinicall.db.models.web_sessions import WebSession

__all__ = [
    "Agent",
    "AgentPause",
    "AgentSession",
    "Appointment",
    "AppointmentState",
    "Base",
    "Call",
    "Callback",
    "CallbackAttempt",
    "CallbackIntake",
    "CallbackReason",
    "CallbackState",
    "Complaint",
    "ComplaintCall",
    "ComplaintEvent",
    "ComplaintRecording",
    "ComplaintState",
    "Direction",
    "HangupSide",
    "IngestState",
    "IvrOutcome",
    "JournalEvent",
    "JournalSource",
    "MissCause",
    "QueueAttempt",
    "QueueOutcome",
    "Recording",
    "RecordingAccess",
    "RecordingAction",
    "RecordingHold",
    "RecordingNote",
    "RingAttempt",
    "Role",
    "SurveyAnswer",
    "SurveyQuestion",
    "User",
    "WaitEstimate",
    "WebSession",
    "analytics_hours_built",
    "demand_hours",
    "kpi_call_hours",
    "kpi_changed_hours",
    "kpi_hours_built",
    "kpi_queue_hours",
    "kpi_wait_blocks",
    "kpi_wait_counts",
    "staffing_hours",
    "survey_hours",
]
