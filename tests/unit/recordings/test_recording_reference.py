"""The tracker's recording reference: the projector reads MIXMONITOR_FILENAME, the store keeps
one ``recordings`` row per answered call, also when the journal is replayed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.asterisk.recording_layout import RecordingName
from clinicall.controller.events import (
    AgentCompleted,
    AgentConnected,
    AnyEvent,
    ChannelCreated,
    ChannelHungUp,
    QueueAbandoned,
    QueueJoined,
    VariableSet,
)
from clinicall.controller.tracking import store
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.project import CallRecord, project_call
from clinicall.controller.tracking.rows import JournalRow, ami_entries, row_of
from clinicall.db import insert_journal
from clinicall.db.models import Call, Recording

CONFIG = TrackingConfig(country_code="380")
T0 = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
SPOOL = "/var/spool/asterisk/monitor"
QUEUE = "cardiology"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call_events(
    uid: str, *, answered: bool, filename: str | None = "layout"
) -> list[AnyEvent]:
    """One queued call over AMI: MixMonitor starts before the queue; answered at +13 s or
    abandoned at +20 s; ``filename`` 'layout' is the name the dialplan would give."""
    n = count()

    def base(s: float) -> dict[str, object]:
        return {"key": f"{uid}-{next(n)}", "at": at(s), "uniqueid": uid, "linkedid": uid}

    if filename == "layout":
        filename = f"{SPOOL}/2026/03/07/{uid}.ogg"
    events: list[AnyEvent] = [
        ChannelCreated(**base(0), channel="PJSIP/trunk-1", caller_number="0501234567",  # type: ignore[arg-type]
                       caller_name="", exten="0441234567", context="clinicall-inbound"),
    ]  # fmt: skip
    if filename is not None:
        events.append(VariableSet(**base(9.9), name="MIXMONITOR_FILENAME", value=filename))  # type: ignore[arg-type]
    events.append(QueueJoined(**base(10), queue=QUEUE, position=1, caller_number="0501234567"))  # type: ignore[arg-type]
    if answered:
        events += [
            AgentConnected(**base(13), queue=QUEUE, member="Local/op1", member_name="op1",  # type: ignore[arg-type]
                           hold_s=3, ring_s=2),
            AgentCompleted(**base(73), queue=QUEUE, member="Local/op1", member_name="op1",  # type: ignore[arg-type]
                           hold_s=3, talk_s=60, hung_up_by="caller"),
        ]  # fmt: skip
    else:
        events.append(QueueAbandoned(**base(20), queue=QUEUE, position=1, original_position=1,  # type: ignore[arg-type]
                                     hold_s=10))  # fmt: skip
    events.append(ChannelHungUp(**base(74), channel="PJSIP/trunk-1", cause=16,  # type: ignore[arg-type]
                                cause_text="Normal Clearing"))  # fmt: skip
    return events


def rows_of(events: list[AnyEvent]) -> list[JournalRow]:
    ids = count(1)
    return [row_of(e, next(ids)) for ev in events for e in ami_entries(ev)]


def project(uid: str, events: list[AnyEvent]) -> CallRecord:
    call = project_call(uid, rows_of(events), CONFIG)
    assert call is not None
    return call


def test_answered_call_carries_its_recording() -> None:
    call = project("1.10", call_events("1.10", answered=True))
    assert call.answered_at == at(13)
    assert call.recording == RecordingName(T0.date(), "1.10", "ogg")
    assert call.recording.path == PurePosixPath("2026/03/07/1.10.ogg")


def test_unanswered_call_has_no_recording_though_mixmonitor_ran() -> None:
    call = project("1.11", call_events("1.11", answered=False))
    assert call.missed
    assert call.recording is None


def test_no_recording_without_the_variable_or_off_the_layout() -> None:
    assert project("1.12", call_events("1.12", answered=True, filename=None)).recording is None
    odd = call_events("1.13", answered=True, filename="/tmp/0501234567.wav")
    assert project("1.13", odd).recording is None


def test_replayed_and_shuffled_rows_give_the_same_recording() -> None:
    rows = rows_of(call_events("1.14", answered=True))
    twice = rows + rows
    random.Random(7).shuffle(twice)
    assert project_call("1.14", twice, CONFIG) == project_call("1.14", rows, CONFIG)


async def _journal_and_project(sessions: async_sessionmaker[AsyncSession],
                               events: list[AnyEvent]) -> None:  # fmt: skip
    entries = [e for ev in events for e in ami_entries(ev)]
    async with sessions() as session, session.begin():
        await insert_journal(session, entries)
        await store.project_calls(session, {e.call_key for e in entries if e.call_key}, CONFIG)


async def _recordings(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[object, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Recording.path, Recording.format, Recording.started_at, Recording.linkedid,
                   Call.linkedid, Recording.size_bytes)
            .join(Call, Call.id == Recording.call_id).order_by(Recording.path)
        )  # fmt: skip
        return [tuple(r) for r in rows]


async def test_store_keeps_one_row_per_answered_call_under_replay(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    answered = call_events("1.20", answered=True)
    abandoned = call_events("1.21", answered=False)
    for _ in range(2):  # the live pass, then a replay of the same journal
        await _journal_and_project(db_sessions, answered + abandoned)
    expected = [("2026/03/07/1.20.ogg", "ogg", at(13), "1.20", "1.20", 0)]
    assert await _recordings(db_sessions) == expected
    async with db_sessions() as session, session.begin():  # a full rebuild, twice
        for _ in range(2):
            await store.project_calls(session, await store.journal_call_keys(session), CONFIG)
    assert await _recordings(db_sessions) == expected

    await _journal_and_project(db_sessions, call_events("1.22", answered=True))
    assert [r[0] for r in await _recordings(db_sessions)] == [
        "2026/03/07/1.20.ogg", "2026/03/07/1.22.ogg",
    ]  # fmt: skip
