"""CallTracker against the store, on SQLite and PostgreSQL (``db_sessions`` fixture).

The tracker is fed as the Asterisk engine feeds it: AMI frames through the adapter's decoder,
queue_log through the adapter's durable-record reader (the real incremental tail on a file in
tmp_path); lines follow docs/engines/asterisk.md formats plus the dialplan's CLINICALL line.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.calltypes import CallInfo, QueueRequest
from clinicall.calltypes import IvrOutcome as IvrResult
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder
from clinicall.controller.asterisk.record import QueueLogRecord
from clinicall.controller.port import ReconcileBatch
from clinicall.controller.tracking import CallTracker, TrackingConfig, store
from clinicall.db import create_engine
from clinicall.db.models import (
    Call,
    HangupSide,
    IngestState,
    IvrOutcome,
    JournalEvent,
    MissCause,
    QueueAttempt,
    QueueOutcome,
    RingAttempt,
)

Sessions = async_sessionmaker[AsyncSession]
T0 = 1763900000
A = "1763900000.12"  # answered after 3 s (AMI, IVR and queue_log)
B = "1763900100.20"  # abandoned after 8 s, queue_log only
C_CALL, C_CHAN = "1763900200.30", "1763900200.31"  # fallback call on a Local channel
CONFIG = TrackingConfig(country_code="380")
CLINIC = "+380441234567"
MARK = "CLINICALL"  # the dialplan's own queue_log event
#: Facts of QUEUE_LOG's 13 lines: each CLINICALL mark gives two (the call's routing and its
#: channel → call mapping), every other line one.
QUEUE_LOG_FACTS = 16

QUEUE_LOG = (
    f"{T0 + 10}|{A}|cardiology|NONE|{MARK}|{A}|queue|uk|cardio|lang:1/main:2|0501234567|{CLINIC}\n"
    f"{T0 + 10}|{A}|cardiology|NONE|ENTERQUEUE||0501234567|1\n"
    f"{T0 + 11}|NONE|cardiology|op2|PAUSE|lunch\n"
    f"{T0 + 13}|{A}|cardiology|op1|CONNECT|3|1763900010.15|2\n"
    f"{T0 + 73}|{A}|cardiology|op1|COMPLETECALLER|3|60|1\n"
    f"{T0 + 110}|{B}|cardiology|NONE|{MARK}|{B}|queue|ru|cardio|lang:2/main:2|0671112233|{CLINIC}\n"
    f"{T0 + 110}|{B}|cardiology|NONE|ENTERQUEUE||0671112233|1\n"
    f"{T0 + 118}|{B}|cardiology|op1|RINGCANCELED|7000\n"
    f"{T0 + 118}|{B}|cardiology|NONE|ABANDON|1|1|8\n"
    f"{T0 + 202}|{C_CHAN}|general|NONE|{MARK}|{C_CALL}|fallback|uk|general||0939998877|{CLINIC}\n"
    f"{T0 + 202}|{C_CHAN}|general|NONE|ENTERQUEUE||0939998877|1\n"
    f"{T0 + 206}|{C_CHAN}|general|op2|CONNECT|4|1763900202.40|1\n"
    f"{T0 + 236}|{C_CHAN}|general|op2|COMPLETECALLER|4|30|1\n"
).encode()


def clock() -> datetime:
    return datetime.fromtimestamp(T0 + 300, UTC)


def frame(event: str, at: float, uid: str = A, **headers: str) -> Message:
    base = [("Event", event), ("Timestamp", f"{T0 + at:.6f}"), ("Uniqueid", uid),
            ("Linkedid", uid), ("Channel", "PJSIP/trunk-00000007")]  # fmt: skip
    return Message(base + list(headers.items()))


def ami_answered() -> list[Message]:
    q = {"Queue": "cardiology"}
    op = {**q, "Interface": "PJSIP/op1", "MemberName": "op1", "DestUniqueid": "1763900010.15"}
    return [
        frame(
            "Newchannel",
            0.1,
            CallerIDNum="0501234567",
            CallerIDName="Олена",
            Exten="0441234567",
            Context="clinicall-in",
        ),
        frame("Newstate", 0.2),  # not tracked: ignored and counted
        frame("QueueCallerJoin", 10.2, Position="1", CallerIDNum="0501234567", **q),
        frame("AgentCalled", 10.3, **op),
        frame("QueueCallerLeave", 13.1, Position="1", **q),
        frame("AgentConnect", 13.1, HoldTime="3", RingTime="2", **op),
        frame("AgentComplete", 73.2, HoldTime="3", TalkTime="60", Reason="caller", **op),
        frame("Hangup", 73.3, Cause="16", **{"Cause-txt": "Normal Clearing"}),
    ]


async def record_ivr(tracker: CallTracker) -> None:
    info = CallInfo(call_id=A, channel_id=A, caller_number="0501234567", caller_name="Олена",
                    dialled_number="+380441234567", engine="asterisk")  # fmt: skip
    request = QueueRequest(queue="cardiology", priority=2, max_wait_s=30, overflow_queue=None,
                           language="uk", path="lang:1/main:2", route="cardio")  # fmt: skip
    outcome = IvrResult(language="uk", path="lang:1/main:2", route="cardio", request=request,
                        outcome="queue")  # fmt: skip
    await tracker.record_ivr(info, outcome, datetime.fromtimestamp(T0 + 1, UTC))


def tracker_on(sessions: Sessions, path: Path) -> CallTracker:
    return CallTracker(sessions, QueueLogRecord(path), CONFIG, clock=clock)


def send(tracker: CallTracker, messages: list[Message]) -> AmiFactDecoder:
    """AMI frames to the tracker through the Asterisk adapter's decoder (returned: its stats)."""
    decoder = AmiFactDecoder()
    for message in messages:
        for fact in decoder.decode(message):
            tracker.handle_fact(fact)
    return decoder


async def snapshot(sessions: Sessions) -> dict[str, list[tuple[Any, ...]]]:
    """Every tracked row, ids of calls included (re-projection keeps them)."""
    async with sessions() as s:
        calls = (await s.execute(select(Call).order_by(Call.call_key))).scalars().all()
        attempts = (await s.execute(select(QueueAttempt, Call.call_key).join(Call)
                                    .order_by(QueueAttempt.joined_at))).all()  # fmt: skip
        rings = (await s.execute(select(RingAttempt).order_by(RingAttempt.rang_at))).scalars()
        journal = await s.scalar(select(JournalEvent.id).order_by(JournalEvent.id.desc()))
        return {
            "calls": [
                (
                    c.id,
                    c.call_key,
                    c.caller,
                    c.dialled,
                    c.started_at,
                    c.answered_at,
                    c.ended_at,
                    c.language,
                    c.ivr_path,
                    c.route,
                    c.ivr_outcome,
                    c.hangup_side,
                    c.missed,
                    c.miss_cause,
                )
                for c in calls
            ],
            "attempts": [
                (
                    link,
                    a.channel_id,
                    a.queue,
                    a.joined_at,
                    a.connected_at,
                    a.left_at,
                    a.outcome,
                    a.wait_s,
                    a.talk_s,
                    a.agent,
                    a.position,
                    a.original_position,
                    a.priority,
                )
                for a, link in attempts
            ],
            "rings": [(r.member, r.rang_at, r.ring_ms, r.answered) for r in rings],
            "journal": [(journal,)],
        }


def write_file(path: Path, data: bytes) -> None:
    path.write_bytes(data)


async def ingest_all(sessions: Sessions, path: Path) -> CallTracker:
    write_file(path, QUEUE_LOG)
    tracker = tracker_on(sessions, path)
    send(tracker, ami_answered())
    await record_ivr(tracker)
    await tracker.flush()
    await tracker.reconcile()
    return tracker


async def test_ingest_gives_calls_attempts_and_rings(db_sessions: Sessions, tmp_path: Path) -> None:
    tracker = await ingest_all(db_sessions, tmp_path / "queue_log")
    async with db_sessions() as s:
        calls = {c.call_key: c for c in (await s.scalars(select(Call))).all()}
        attempts = {a.channel_id: a for a in (await s.scalars(select(QueueAttempt))).all()}
        rings = (await s.scalars(select(RingAttempt).order_by(RingAttempt.rang_at))).all()
    assert sorted(calls) == sorted([A, B, C_CALL])  # the Local channel is not a call of its own
    a, b, c = calls[A], calls[B], calls[C_CALL]
    assert (a.caller, a.ivr_outcome, a.missed, a.language) == (
        "+380501234567", IvrOutcome.QUEUE, False, "uk",
    )  # fmt: skip
    assert a.answered_at == datetime.fromtimestamp(T0 + 13, UTC)
    assert a.ended_at == datetime.fromtimestamp(T0 + 73.3, UTC)
    assert a.caller_name == "Олена"  # stored on the call since migration 0012
    assert (attempts[A].outcome, attempts[A].wait_s, attempts[A].talk_s, attempts[A].priority) == (
        QueueOutcome.ANSWERED, 3.0, 60.0, 2,
    )  # fmt: skip
    assert (b.missed, b.miss_cause, b.language, b.caller) == (
        True, MissCause.ABANDONED, "ru", "+380671112233",
    )  # fmt: skip
    assert (attempts[B].outcome, attempts[B].wait_s) == (QueueOutcome.ABANDONED, 8.0)
    assert (c.ivr_outcome, c.missed, attempts[C_CHAN].call_id) == (IvrOutcome.FALLBACK, False, c.id)
    assert [(r.member, r.answered) for r in rings] == [
        ("op1", True), ("op1", False), ("op2", True),
    ]  # fmt: skip
    assert tracker.stats.record_facts == QUEUE_LOG_FACTS


async def test_replaying_the_whole_journal_twice_changes_nothing(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    tracker = await ingest_all(db_sessions, path)
    before = await snapshot(db_sessions)
    assert await tracker.rebuild() == 3
    assert await tracker.rebuild() == 3
    assert await snapshot(db_sessions) == before
    # Everything again from scratch: queue_log from byte 0, the same AMI frames, the same IVR.
    async with db_sessions() as s, s.begin():
        await s.execute(delete(IngestState))
    again = await ingest_all(db_sessions, path)
    assert again.stats.journaled == 0
    assert await snapshot(db_sessions) == before


async def test_reconcile_from_a_queue_log_written_in_pieces(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    cut = QUEUE_LOG.index(b"COMPLETECALLER") + 5  # in the middle of A's last line
    path.write_bytes(QUEUE_LOG[:cut])
    first = tracker_on(db_sessions, path)
    # CLINICALL (two facts), ENTERQUEUE, PAUSE, CONNECT; the half line waits
    assert await first.reconcile() == 5
    async with db_sessions() as s:
        state = await s.get(IngestState, "queue_log")
        assert state is not None
        assert state.cursor["offset"] == QUEUE_LOG.rindex(b"\n", 0, cut) + 1
        (attempt,) = (await s.scalars(select(QueueAttempt))).all()
        assert (attempt.outcome, attempt.talk_s) == (QueueOutcome.ANSWERED, None)
    with path.open("ab") as file:
        file.write(QUEUE_LOG[cut:])
    second = tracker_on(db_sessions, path)  # a restarted controller resumes from the store
    assert await second.reconcile() == QUEUE_LOG_FACTS - 5
    pieces = await snapshot(db_sessions)
    async with db_sessions() as s:
        talk = await s.scalar(select(QueueAttempt.talk_s).where(QueueAttempt.channel_id == A))
    assert talk == 60.0
    assert len(pieces["calls"]) == 3
    assert len(pieces["attempts"]) == 3


async def test_malformed_lines_and_unknown_events_are_skipped_and_counted(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    garbage = b"not a queue_log line\nabc|1763900000.12|cardiology|NONE|ENTERQUEUE||x|1\n"
    bad_number = f"{T0 + 120}|{B}|cardiology|NONE|ABANDON|one|1|8\n".encode()
    path.write_bytes(garbage + QUEUE_LOG + bad_number)
    tracker = tracker_on(db_sessions, path)
    decoder = send(tracker, [
        frame("QueueCallerJoin", 5, Position="x", Queue="cardiology"),
        frame("QueueCallerJoin", 6, Position="x", Queue="cardiology"),
        frame("AgentConnect", 7),  # no Queue header
        frame("RTCPSent", 8),
        Message([("Event", "Newexten"), ("Uniqueid", A)]),
    ])  # fmt: skip
    await tracker.flush()
    assert await tracker.reconcile() == QUEUE_LOG_FACTS
    assert tracker.stats.record_skipped == 3
    assert dict(decoder.stats.malformed) == {"QueueCallerJoin": 2, "AgentConnect": 1}
    assert dict(decoder.stats.ignored) == {"RTCPSent": 1, "Newexten": 1}
    async with db_sessions() as s:
        calls = (await s.scalars(select(Call.call_key))).all()
        sources = (await s.scalars(select(JournalEvent.source).distinct())).all()
    assert sorted(calls) == sorted([A, B, C_CALL])
    assert [str(x) for x in sources] == ["record"]  # no live row from the bad frames


class FlakySessions:
    """A session factory whose first ``failures`` sessions fail on use (database down)."""

    def __init__(self, real: Sessions, failures: int) -> None:
        self.real, self.failures = real, failures

    def __call__(self) -> AsyncSession:
        if self.failures > 0:
            self.failures -= 1
            return async_sessionmaker(create_engine("sqlite+aiosqlite:////nonexistent/dir/x.db"))()
        return self.real()


async def test_a_database_error_loses_nothing(db_sessions: Sessions, tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    write_file(path, QUEUE_LOG)
    flaky = FlakySessions(db_sessions, failures=2)
    tracker = CallTracker(flaky, QueueLogRecord(path), CONFIG, clock=clock)  # type: ignore[arg-type]
    send(tracker, ami_answered())
    with pytest.raises(OperationalError):
        await tracker.flush()
    with pytest.raises(OperationalError):
        await tracker.reconcile()
    await tracker.flush()
    await record_ivr(tracker)
    assert await tracker.reconcile() == QUEUE_LOG_FACTS
    async with db_sessions() as s:
        rows = (
            await s.scalars(select(JournalEvent.kind).where(JournalEvent.source == "live"))
        ).all()
    assert sorted(set(rows)) == sorted(
        ["queue.rung", "queue.completed", "queue.answered", "channel.opened", "channel.closed",
         "queue.joined", "queue.left", "call.channel"]
    )  # fmt: skip
    calls = await snapshot(db_sessions)
    assert len(calls["calls"]) == 3


async def test_start_reconciles_and_close_flushes(db_sessions: Sessions, tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    write_file(path, QUEUE_LOG)
    tracker = CallTracker(db_sessions, QueueLogRecord(path), CONFIG, clock=clock,
                          reconcile_interval_s=3600, batch_interval_s=3600)  # fmt: skip
    await tracker.start()
    assert tracker.stats.record_facts == QUEUE_LOG_FACTS  # read at start
    send(tracker, ami_answered())
    await tracker.close()  # the loops would only run in an hour: close writes what is pending
    async with db_sessions() as s:
        kinds = (
            await s.scalars(select(JournalEvent.kind).where(JournalEvent.source == "live"))
        ).all()
    assert "queue.completed" in kinds
    assert tracker.stats.db_errors == 0


async def test_tracker_is_the_controllers_call_account(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    from clinicall.controller.service import CallAccount

    path = tmp_path / "queue_log"
    write_file(path, QUEUE_LOG)
    tracker = tracker_on(db_sessions, path)
    account: CallAccount = tracker
    for fact in AmiFactDecoder().decode(ami_answered()[0]):
        account.handle_fact(fact)
    await tracker.engine_up()
    assert tracker.stats.record_facts == QUEUE_LOG_FACTS
    assert tracker.stats.live_facts == 1


async def test_calls_the_engine_died_with_are_cut_at_its_next_start(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    """docs/kpi.md, "cut": a crash says nothing; the next QUEUESTART ends the calls still
    open, and those whose IVR session saw the line drop after the last fact heard, as cut.
    A call that ended before the engine fell silent is left alone."""
    waiting, in_menu, done = "1763900400.1", "1763900420.1", "1763900390.1"
    path = tmp_path / "queue_log"
    path.write_bytes(
        f"{T0 + 410}|{waiting}|cardiology|NONE|{MARK}|{waiting}|queue|uk|cardio|main:1|"
        f"0501234567|{CLINIC}\n"
        f"{T0 + 410}|{waiting}|cardiology|NONE|ENTERQUEUE||0501234567|1\n".encode())
    now = [T0 + 421.5]
    tracker = CallTracker(db_sessions, QueueLogRecord(path), CONFIG,
                          clock=lambda: datetime.fromtimestamp(now[0], UTC))
    caller = {"CallerIDNum": "0501234567", "Exten": "0441234567", "Context": "clinicall-in"}
    send(tracker, [
        frame("Newchannel", 390.1, done, **caller),
        frame("Hangup", 395.0, done, Cause="16"),
        frame("Newchannel", 400.1, waiting, **caller),
        frame("QueueCallerJoin", 410.2, waiting, Queue="cardiology", Position="1"),
        frame("Newchannel", 420.3, in_menu, **caller),  # the last fact heard: then kill -9
    ])
    info = CallInfo(call_id=in_menu, channel_id=in_menu, caller_number="0501234567",
                    caller_name="", dialled_number=CLINIC, engine="asterisk")
    hung_up = IvrResult(language="uk", path="main", route=None, request=None, outcome="hangup")
    await tracker.record_ivr(info, hung_up, datetime.fromtimestamp(T0 + 420.1, UTC))
    await tracker.reconcile()

    async def calls() -> dict[str, tuple[Any, ...]]:
        async with db_sessions() as s:
            rows = (await s.execute(select(Call.call_key, Call.miss_cause, Call.hangup_side,
                                           Call.ended_at))).all()
        return {key: (cause, side, ended is not None) for key, cause, side, ended in rows}

    assert await calls() == {
        done: (MissCause.FAILED, HangupSide.SYSTEM, True),
        waiting: (None, None, False),  # still waiting, as far as anyone said
        in_menu: (MissCause.HANGUP_IVR, HangupSide.CALLER, True),
    }
    with path.open("ab") as log:
        # Asterisk was back within the second: the start's whole-second time precedes the
        # in-menu call's first fact, which is still the old engine's
        log.write(f"{T0 + 420}|NONE|NONE|NONE|QUEUESTART|\n".encode())
    await tracker.reconcile()
    await tracker.reconcile()  # a second read of the same start changes nothing
    assert await calls() == {
        done: (MissCause.FAILED, HangupSide.SYSTEM, True),
        waiting: (MissCause.ENGINE, HangupSide.ENGINE, True),
        in_menu: (MissCause.ENGINE, HangupSide.ENGINE, True),
    }
    async with db_sessions() as s:
        attempt = (await s.execute(select(QueueAttempt))).scalar_one()
    assert attempt.outcome == QueueOutcome.CUT
    assert attempt.wait_s == 10.3  # joined 410, last heard 420.3


async def test_an_ivr_session_the_engine_never_reported_is_kept_apart(
    db_sessions: Sessions, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A local peer's FastAGI session is no patient's call: no call row, never a missed one;
    after the grace it is counted apart and logged, with its id escaped."""
    path = tmp_path / "queue_log"
    path.write_bytes(b"")
    now = [T0 + 500.0]
    tracker = CallTracker(db_sessions, QueueLogRecord(path), CONFIG, confirm_grace_s=60,
                          clock=lambda: datetime.fromtimestamp(now[0], UTC))
    real, fake = "1763900500.1", "fake\r\nforged log line"
    send(tracker, [frame("Newchannel", 499.0, real, CallerIDNum="0501234567",
                         Exten="0441234567", Context="clinicall-in")])
    hung_up = IvrResult(language="uk", path="main", route=None, request=None, outcome="hangup")
    for call_id in (real, fake):
        info = CallInfo(call_id=call_id, channel_id=call_id, caller_number="0501234567",
                        caller_name="", dialled_number=CLINIC, engine="asterisk")
        await tracker.record_ivr(info, hung_up, datetime.fromtimestamp(T0 + 499.5, UTC))
    assert await tracker.check_ivr_sessions() == 0  # within the grace: not judged yet
    now[0] += 61
    with caplog.at_level(logging.WARNING, "clinicall.controller.tracking.tracker"):
        assert await tracker.check_ivr_sessions() == 1
    assert await tracker.check_ivr_sessions() == 0  # judged once
    async with db_sessions() as s:
        calls = (await s.execute(select(Call.call_key, Call.miss_cause))).all()
    assert [tuple(c) for c in calls] == [(real, MissCause.HANGUP_IVR)]
    health = tracker.health()
    assert (health.ivr_unconfirmed, health.store_up, health.pending) == (1, True, 0)
    (record,) = caplog.records
    assert "'fake\\r\\nforged log line'" in record.getMessage()
    assert "\n" not in record.getMessage()


async def test_one_batch_writes_what_one_call_at_a_time_writes(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    """The set-wise writer (issue 16): re-projecting every call in one batch, or each in its
    own transaction, leaves the same rows, ids included."""
    await ingest_all(db_sessions, tmp_path / "queue_log")
    before = await snapshot(db_sessions)
    async with db_sessions() as s:
        keys = await store.journal_call_keys(s)
    assert keys == sorted([A, B, C_CALL])
    for key in keys:
        async with db_sessions() as s, s.begin():
            await store.project_calls(s, [key], CONFIG)
        assert await snapshot(db_sessions) == before
    async with db_sessions() as s, s.begin():
        assert await store.project_calls(s, keys, CONFIG) == 3
    assert await snapshot(db_sessions) == before


async def test_a_call_known_first_by_its_channel_becomes_its_call(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    """queue_log lines that name only a channel make a call of that channel until the
    dialplan's mark maps it: then the call takes its rows and the channel's call is gone."""
    path = tmp_path / "queue_log"
    lines = [line for line in QUEUE_LOG.splitlines(keepends=True) if C_CHAN.encode() in line]
    mark = next(line for line in lines if MARK.encode() in line)
    write_file(path, b"".join(line for line in lines if line != mark))
    tracker = tracker_on(db_sessions, path)
    assert await tracker.reconcile() == 3
    first = await snapshot(db_sessions)
    assert [c[1] for c in first["calls"]] == [C_CHAN]
    with path.open("ab") as file:
        file.write(mark)
    assert await tracker.reconcile() == 2
    async with db_sessions() as s:
        (call,) = (await s.scalars(select(Call))).all()
        (attempt,) = (await s.scalars(select(QueueAttempt))).all()
        rings = (await s.scalars(select(RingAttempt))).all()
    assert (call.call_key, call.ivr_outcome, call.caller) == (
        C_CALL, IvrOutcome.FALLBACK, "+380939998877",
    )  # fmt: skip
    assert (attempt.call_id, attempt.channel_id, attempt.outcome) == (
        call.id, C_CHAN, QueueOutcome.ANSWERED,
    )  # fmt: skip
    assert [(r.member, r.answered, r.queue_attempt_id) for r in rings] == [
        ("op2", True, attempt.id)
    ]


class TimedRecord:
    """A durable record with nothing new, which notes when it was read (loop time)."""

    record_name = "test"

    def __init__(self) -> None:
        self.read_at: list[float] = []
        self.read = asyncio.Condition()

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        async with self.read:
            self.read_at.append(asyncio.get_running_loop().time())
            self.read.notify_all()
        return ReconcileBatch([], cursor or {"line": 0})

    async def reads(self, count: int) -> None:
        async with asyncio.timeout(30), self.read:
            await self.read.wait_for(lambda: len(self.read_at) >= count)


async def test_an_idle_engine_is_read_less_and_less_often_until_a_fact_comes(
    db_sessions: Sessions,
) -> None:
    """Idle CPU (issue 16): while nothing happens the record is read at 1, 2, 4… intervals up
    to the cap; the first live fact after the quiet spell has it read at once again."""
    record = TimedRecord()
    tracker = CallTracker(db_sessions, record, CONFIG, clock=clock, reconcile_interval_s=0.02,
                          reconcile_idle_max_s=0.08, soon_delay_s=0)  # fmt: skip
    await tracker.start()
    try:
        await record.reads(6)  # the start's read, then the loop's
        gaps = [b - a for a, b in itertools.pairwise(record.read_at[1:6])]
        # a timeout never fires early (less the loop's clock resolution)
        assert [round(g, 2) >= want for g, want in zip(gaps, (0.04, 0.08, 0.08, 0.08),
                                                         strict=True)] == [True] * 4, gaps
        # from the next read on, only a fact can bring one within the half hour
        tracker.reconcile_interval_s, tracker.reconcile_idle_max_s = 1800.0, 3600.0
        await record.reads(len(record.read_at) + 1)
        before = len(record.read_at)
        send(tracker, ami_answered()[:1])
        await record.reads(before + 1)
    finally:
        await tracker.close()
