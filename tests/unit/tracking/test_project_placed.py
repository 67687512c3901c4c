"""The projector on calls clinicall placed (callback attempts, reminders): outbound, with their
purpose, never missed (docs/kpi.md, "calls clinicall places")."""

from __future__ import annotations

from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.project import CallRecord, project_call
from clinicall.controller.tracking.rows import JournalRow
from clinicall.db.models import Direction, MissCause, QueueOutcome

from .scenarios import Ami, at, ql_rows

CONFIG = TrackingConfig(country_code="380")
KEY = "cb-0123456789abcdef0123"
PATIENT = "+380501234567"


def placed(purpose: str) -> Ami:
    """The originate's channel: the operator's (agent first) or the patient's (a reminder),
    with the call data clinicall's originate sets."""
    return (Ami(KEY, KEY).created(0.0).var(0.0, "CLINICALL_PURPOSE", purpose)
            .var(0.0, "CLINICALL_CALLED", PATIENT))  # fmt: skip


def project(ami: Ami, *extra: list[JournalRow]) -> CallRecord:
    rows = ami.rows() + [row for more in extra for row in more]
    call = project_call(KEY, rows, CONFIG)
    assert call is not None
    return call


def test_an_unanswered_callback_attempt_is_outbound_and_not_missed() -> None:
    call = project(placed("callback").hangup(30.0, cause=19))
    assert (call.direction, call.purpose) == (Direction.OUTBOUND, "callback")
    assert (call.missed, call.miss_cause, call.answered_at) == (False, None, None)
    assert call.dialled == PATIENT
    assert call.ended_at == at(30)


def test_the_same_channel_without_the_purpose_is_an_inbound_missed_call() -> None:
    """The control: what the account made of a callback attempt before it read the purpose."""
    call = project(Ami(KEY, KEY).created(0.0).hangup(30.0, cause=19))
    assert (call.direction, call.purpose) == (Direction.INBOUND, None)
    assert (call.missed, call.miss_cause) == (True, MissCause.FAILED)


def test_an_answered_callback_is_answered_when_the_patient_picked_up() -> None:
    call = project(placed("callback").var(12.0, "CLINICALL_OUTCOME", "callback_answered")
                   .hangup(90.0))  # fmt: skip
    assert (call.direction, call.purpose, call.missed) == (Direction.OUTBOUND, "callback", False)
    assert call.answered_at == at(12)


def test_a_reminder_patient_who_abandons_the_queue_after_0_is_not_a_missed_call() -> None:
    ql = """
    +20|cardiology|NONE|ENTERQUEUE||0501234567|1
    +50|cardiology|NONE|ABANDON|1|1|30
    """
    call = project(placed("reminder").hangup(50.0), ql_rows(ql, uniqueid=KEY))
    assert (call.direction, call.purpose) == (Direction.OUTBOUND, "reminder")
    assert (call.missed, call.miss_cause) == (False, None)
    (attempt,) = call.attempts  # stored, but left out of the queue's inbound KPIs
    assert attempt.outcome == QueueOutcome.ABANDONED


def test_an_unknown_purpose_is_not_trusted() -> None:
    call = project(Ami(KEY, KEY).created(0.0).var(0.0, "CLINICALL_PURPOSE", "survey")
                   .hangup(30.0))  # fmt: skip
    assert call.direction == Direction.INBOUND
