"""The projector on realistic call sequences: pure functions, no database."""

from __future__ import annotations

import random

from clinicall.controller.facts import ChannelCut
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.project import CallRecord, is_short_abandon, project_call
from clinicall.controller.tracking.rows import JournalRow
from clinicall.db.models import HangupSide, IvrOutcome, MissCause, QueueOutcome

from .scenarios import CALLER, UID, Ami, at, ivr_rows, mark, ql_rows, rows_of

CONFIG = TrackingConfig(country_code="380")

ANSWERED_QL = f"""
{mark(10, "cardiology")}
+10|cardiology|NONE|ENTERQUEUE||{CALLER}|1
+13|cardiology|op1|CONNECT|3|1763900010.15|2
+73|cardiology|op1|COMPLETECALLER|3|60|1
"""


def answered_ami() -> Ami:
    return (
        Ami().created(0.1).var(9.9, "CLINICALL_LANG", "uk").join(10.2, "cardiology")
        .called(10.3, "cardiology", "op1").leave(13.1, "cardiology")
        .connect(13.1, "cardiology", "op1", hold=3, ring=2)
        .complete(73.2, "cardiology", "op1", hold=3, talk=60, by="caller").hangup(73.3)
    )  # fmt: skip


def project(rows: list[JournalRow]) -> CallRecord:
    call = project_call(UID, rows, CONFIG)
    assert call is not None
    return call


def test_answered_after_3_s_from_all_sources() -> None:
    call = project(ql_rows(ANSWERED_QL) + answered_ami().rows() + ivr_rows("queue"))
    (attempt,) = call.attempts
    assert (attempt.queue, attempt.outcome, attempt.wait_s, attempt.talk_s, attempt.agent) == (
        "cardiology", QueueOutcome.ANSWERED, 3.0, 60.0, "op1",
    )  # fmt: skip
    assert attempt.joined_at == at(10)
    assert attempt.connected_at == at(13)
    assert attempt.priority == 2
    assert attempt.original_position == 1
    assert [(r.member, r.rang_at, r.ring_ms, r.answered) for r in attempt.rings] == [
        ("op1", at(11), 2000, True)
    ]
    assert call.caller == "+380501234567"
    assert call.dialled == "+380441234567"
    assert (call.started_at, call.answered_at, call.ended_at) == (at(0.1), at(13), at(73.3))
    assert (call.language, call.route, call.ivr_path) == ("uk", "cardio", "lang:1/main:2")
    assert call.ivr_outcome == IvrOutcome.QUEUE
    assert call.hangup_side == HangupSide.CALLER
    assert (call.missed, call.miss_cause) == (False, None)


def test_abandoned_after_8_s() -> None:
    ql = f"""
    {mark(10, "cardiology")}
    +10|cardiology|NONE|ENTERQUEUE||{CALLER}|2
    +18|cardiology|op1|RINGCANCELED|7000
    +18|cardiology|NONE|ABANDON|1|2|8
    """
    call = project(ql_rows(ql))
    (attempt,) = call.attempts
    assert (attempt.outcome, attempt.wait_s, attempt.position, attempt.original_position) == (
        QueueOutcome.ABANDONED, 8.0, 1, 2,
    )  # fmt: skip
    assert attempt.rings[0].ring_ms == 7000
    assert not attempt.rings[0].answered
    assert (call.missed, call.miss_cause, call.hangup_side) == (
        True, MissCause.ABANDONED, HangupSide.CALLER,
    )  # fmt: skip
    assert call.ended_at == at(18)
    assert call.answered_at is None
    assert not is_short_abandon(attempt, CONFIG)


def test_short_abandon_of_2_s_is_a_missed_call_counted_apart() -> None:
    ami = Ami().created(0).join(10, "cardiology").called(10.1, "cardiology", "op1")
    ami.no_answer(12, "cardiology", "op1", 1900).abandon(12, "cardiology", 2)
    ami.leave(12, "cardiology").hangup(12.1)
    call = project(ami.rows())
    (attempt,) = call.attempts
    assert (attempt.outcome, attempt.wait_s) == (QueueOutcome.ABANDONED, 2.0)
    assert is_short_abandon(attempt, CONFIG)
    assert (call.missed, call.miss_cause) == (True, MissCause.ABANDONED)


TIMEOUT_THEN_OVERFLOW_QL = f"""
{mark(10, "cardiology")}
+10|cardiology|NONE|ENTERQUEUE||{CALLER}|1
+25|cardiology|op1|RINGNOANSWER|15000
+40|cardiology|NONE|EXITWITHTIMEOUT|1|1|30
+40|general|NONE|ENTERQUEUE||{CALLER}|1
+44|general|op2|CONNECT|4|1763900040.20|3
+134|general|op2|COMPLETEAGENT|4|90|1
"""


def test_timeout_then_overflow_answered_is_not_missed() -> None:
    call = project(ql_rows(TIMEOUT_THEN_OVERFLOW_QL))
    first, second = call.attempts
    assert (first.queue, first.outcome, first.wait_s) == ("cardiology", QueueOutcome.TIMEOUT, 30.0)
    assert (second.queue, second.outcome, second.wait_s, second.agent) == (
        "general", QueueOutcome.ANSWERED, 4.0, "op2",
    )  # fmt: skip
    assert (call.missed, call.miss_cause, call.answered_at) == (False, None, at(44))
    assert call.hangup_side == HangupSide.AGENT
    assert call.ended_at == at(134)


def test_ami_timeout_is_told_from_abandon_by_queuestatus() -> None:
    """Asterisk emits QueueCallerAbandon on a timeout too (docs/engines/asterisk.md)."""
    ami = Ami().created(0).join(10, "cardiology").abandon(40, "cardiology", 30)
    ami.leave(40, "cardiology").var(40.1, "QUEUESTATUS", "TIMEOUT").hangup(40.2)
    (attempt,) = project(ami.rows()).attempts
    assert (attempt.outcome, attempt.wait_s) == (QueueOutcome.TIMEOUT, 30.0)
    plain = Ami().created(0).join(10, "cardiology").abandon(40, "cardiology", 30)
    plain.leave(40, "cardiology").hangup(40.2)
    assert project(plain.rows()).attempts[0].outcome == QueueOutcome.ABANDONED


def test_an_ivr_session_the_engine_never_reported_is_no_call() -> None:
    """A FastAGI session alone proves nothing: any local peer can open one."""
    for outcome in ("afterhours", "selfserved", "hangup", "queue"):
        assert project_call(UID, ivr_rows(outcome, queue=None), CONFIG) is None


def test_after_hours_call_from_the_ivr_and_its_channel() -> None:
    call = project(ivr_rows("afterhours", queue=None, ended=25) + Ami().created(1.5).rows())
    assert call.attempts == ()
    assert (call.ivr_outcome, call.missed, call.miss_cause) == (
        IvrOutcome.AFTER_HOURS, True, MissCause.AFTER_HOURS,
    )  # fmt: skip
    assert (call.started_at, call.ended_at, call.route) == (at(1), at(25), None)


def test_hang_up_in_the_ivr() -> None:
    call = project(ivr_rows("hangup", queue=None) + Ami().created(0).hangup(9).rows())
    assert (call.ivr_outcome, call.missed, call.miss_cause, call.hangup_side) == (
        IvrOutcome.HANGUP_IVR, True, MissCause.HANGUP_IVR, HangupSide.CALLER,
    )  # fmt: skip
    assert call.ended_at == at(9)
    assert call.caller_name == "Олена Коваленко"


def test_self_served_call_is_not_missed() -> None:
    call = project(ivr_rows("selfserved", queue=None) + Ami().created(0.5).rows())
    assert (call.ivr_outcome, call.missed, call.miss_cause) == (IvrOutcome.SELF_SERVED, False, None)


def test_channel_that_ended_before_ivr_or_queue_is_a_failed_call() -> None:
    call = project(Ami().created(0).hangup(2).rows())
    assert (call.ivr_outcome, call.missed, call.miss_cause) == (
        IvrOutcome.FAILED, True, MissCause.FAILED,
    )  # fmt: skip


def test_fallback_call_from_queue_log_only_with_a_local_channel() -> None:
    """Controller down: the dialplan queued the call; the CLINICALL line names the call."""
    channel = "1763900000.13"
    ql = f"""
    {mark(2, "general", outcome="fallback")}
    +2|general|NONE|ENTERQUEUE||{CALLER}|1
    +6|general|op2|CONNECT|4|1763900002.20|1
    +36|general|op2|COMPLETECALLER|4|30|1
    """
    call = project(ql_rows(ql, uniqueid=channel))
    assert call.ivr_outcome == IvrOutcome.FALLBACK
    assert (call.caller, call.language, call.route) == ("+380501234567", "uk", "cardio")
    assert (call.started_at, call.answered_at, call.ended_at) == (at(2), at(6), at(36))
    (attempt,) = call.attempts
    assert (attempt.channel_id, attempt.wait_s, attempt.talk_s) == (channel, 4.0, 30.0)
    assert not call.missed


def test_ami_only_call_completed_by_queue_log_gives_the_queue_log_attempts() -> None:
    ami_only = project(answered_ami().rows())
    assert ami_only.attempts[0].outcome == QueueOutcome.ANSWERED  # live, before queue_log
    assert ami_only.attempts[0].joined_at == at(10.2)
    ql = ql_rows(ANSWERED_QL)
    both = project(answered_ami().rows() + ql)
    assert both.attempts == project(ql).attempts
    overflow = ql_rows(TIMEOUT_THEN_OVERFLOW_QL)
    live = Ami().created(0).join(10.3, "cardiology").abandon(40.2, "cardiology", 30)
    live.leave(40.2, "cardiology").var(40.3, "QUEUESTATUS", "TIMEOUT").join(40.4, "general")
    assert project(live.rows()).attempts[1].outcome is None  # still waiting in "general"
    assert project(live.rows() + overflow).attempts == project(overflow).attempts


def test_half_read_queue_log_is_completed_from_ami() -> None:
    """queue_log read up to CONNECT only: the talk time comes from AgentComplete."""
    ql = [r for r in ql_rows(ANSWERED_QL) if r.kind != "queue.completed"]
    (attempt,) = project(answered_ami().rows() + ql).attempts
    assert (attempt.joined_at, attempt.talk_s, attempt.hung_up_by) == (at(10), 60.0, "caller")


def test_replayed_and_shuffled_rows_give_identical_records() -> None:
    rows = ql_rows(TIMEOUT_THEN_OVERFLOW_QL) + answered_ami().rows() + ivr_rows("queue")
    once = project(rows)
    twice = rows + rows
    random.Random(7).shuffle(twice)
    assert project(twice) == once


def test_rows_without_call_facts_give_no_call() -> None:
    assert project_call(UID, [], CONFIG) is None


# ---- calls the PBX cut (docs/kpi.md, "cut") ---------------------------------------------------


def _cut_facts(seconds: float, key: str = "restart") -> list[JournalRow]:
    """What the account journals for a call the engine died with (the tracker's sweep)."""
    return rows_of([ChannelCut(key=f"{key}/cut/{UID}", at=at(seconds), call_id=UID,
                               channel_id=UID)])


def test_a_caller_waiting_when_asterisk_stops_is_cut_not_abandoned() -> None:
    ql = f"""
    {mark(10, "cardiology")}
    +10|cardiology|NONE|ENTERQUEUE||{CALLER}|1
    +14|cardiology|NONE|ABANDON|1|1|4
    """
    ami = Ami().created(0.1).join(10.2, "cardiology").soft_hangup(14.0, 4).hangup(14.1, 0)
    call = project(ql_rows(ql) + ami.rows() + ivr_rows("queue"))
    (attempt,) = call.attempts
    assert (attempt.outcome, attempt.wait_s) == (QueueOutcome.CUT, 4.0)
    assert (call.missed, call.miss_cause, call.hangup_side) == (
        True, MissCause.ENGINE, HangupSide.ENGINE)  # fmt: skip
    assert call.ended_at == at(14.1)


def test_a_soft_hangup_that_is_not_the_shutdown_changes_nothing() -> None:
    ql = f"""
    {mark(10, "cardiology")}
    +10|cardiology|NONE|ENTERQUEUE||{CALLER}|1
    +14|cardiology|NONE|ABANDON|1|1|4
    """
    ami = Ami().created(0.1).join(10.2, "cardiology").soft_hangup(14.0, 1).hangup(14.1)
    call = project(ql_rows(ql) + ami.rows() + ivr_rows("queue"))
    assert call.attempts[0].outcome == QueueOutcome.ABANDONED
    assert (call.miss_cause, call.hangup_side) == (MissCause.ABANDONED, HangupSide.CALLER)


def test_a_call_in_the_menu_when_asterisk_stops_failed_it_was_not_hung_up() -> None:
    ami = Ami().created(0.1).soft_hangup(5.0, 4).hangup(5.1, 0)
    call = project(ami.rows() + ivr_rows("hangup", queue=None, ended=5.1))
    assert call.ivr_outcome == IvrOutcome.FAILED
    assert (call.missed, call.miss_cause, call.hangup_side) == (
        True, MissCause.ENGINE, HangupSide.ENGINE)  # fmt: skip


def test_an_answered_call_the_engine_cut_stays_answered() -> None:
    ql = f"""
    {mark(10, "cardiology")}
    +10|cardiology|NONE|ENTERQUEUE||{CALLER}|1
    +13|cardiology|op1|CONNECT|3|1763900010.15|2
    +40|cardiology|op1|COMPLETECALLER|3|27|1
    """
    ami = Ami().created(0.1).soft_hangup(40.0, 4).hangup(40.1, 0)
    call = project(ql_rows(ql) + ami.rows() + ivr_rows("queue"))
    assert call.attempts[0].outcome == QueueOutcome.ANSWERED
    assert (call.missed, call.miss_cause, call.hangup_side) == (False, None, HangupSide.ENGINE)


def test_a_caller_the_engine_died_with_is_ended_at_the_cut() -> None:
    ql = f"""
    {mark(10, "cardiology")}
    +10|cardiology|NONE|ENTERQUEUE||{CALLER}|1
    """
    open_call = project(ql_rows(ql) + ivr_rows("queue"))
    assert (open_call.ended_at, open_call.attempts[0].outcome) == (None, None)
    call = project(ql_rows(ql) + ivr_rows("queue") + _cut_facts(25))
    (attempt,) = call.attempts
    assert (attempt.outcome, attempt.wait_s, attempt.left_at) == (QueueOutcome.CUT, 15.0, at(25))
    assert (call.ended_at, call.miss_cause, call.hangup_side) == (
        at(25), MissCause.ENGINE, HangupSide.ENGINE)  # fmt: skip
    twice = project(ql_rows(ql) + ivr_rows("queue") + _cut_facts(25) + _cut_facts(30, "again"))
    assert twice == call  # the earliest cut counts; replays change nothing


def test_a_record_without_rings_keeps_the_rings_seen_live() -> None:
    # the durable record ends the stay but names no member rung (as FreeSWITCH's CDR);
    # the live events saw op1 ring twice, unanswered
    ql = f"""
    {mark(10, "cardiology")}
    +10|cardiology|NONE|ENTERQUEUE||{CALLER}|1
    +18|cardiology|NONE|ABANDON|1|1|8
    """
    live = (Ami().created(0.1).join(10.2, "cardiology")
            .called(10.3, "cardiology", "op1").no_answer(13.3, "cardiology", "op1", 3000)
            .called(14.3, "cardiology", "op1").no_answer(17.3, "cardiology", "op1", 3000))
    call = project(ql_rows(ql) + live.rows())
    (attempt,) = call.attempts
    assert (attempt.outcome, attempt.wait_s) == (QueueOutcome.ABANDONED, 8.0)
    assert [(r.member, r.ring_ms, r.answered) for r in attempt.rings] == [
        ("op1", 3000, False), ("op1", 3000, False)]
