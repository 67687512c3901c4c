"""The tracker's recording reference: the projector reads MIXMONITOR_FILENAME, the store keeps
one ``recordings`` row per answered call, also when the journal is replayed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from asterisk_input import Ami
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.tracking import store
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.project import CallRecord, RecordingRef, project_call
from clinicall.controller.tracking.rows import call_key_of, fact_entries
from clinicall.db import insert_journal
from clinicall.db.models import Call, Recording

CONFIG = TrackingConfig(country_code="380")
T0 = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
SPOOL = "/var/spool/asterisk/monitor"
QUEUE = "cardiology"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call_events(uid: str, *, answered: bool, filename: str | None = "layout") -> Ami:
    """One queued call over AMI: MixMonitor starts before the queue; answered at +13 s or
    abandoned at +20 s; ``filename`` 'layout' is the name the dialplan would give."""
    if filename == "layout":
        filename = f"{SPOOL}/2026/03/07/{uid}.ogg"
    ami = Ami(uid, uid, t0=T0.timestamp()).created(0)
    if filename is not None:
        ami.var(9.9, "MIXMONITOR_FILENAME", filename)
    ami.join(10, QUEUE)
    if answered:
        ami.connect(13, QUEUE, "op1", hold=3, ring=2)
        ami.complete(73, QUEUE, "op1", hold=3, talk=60, by="caller")
    else:
        ami.abandon(20, QUEUE, hold=10)
    return ami.hangup(74)


def project(uid: str, ami: Ami) -> CallRecord:
    call = project_call(uid, ami.rows(), CONFIG)
    assert call is not None
    return call


def test_answered_call_carries_its_recording() -> None:
    call = project("1.10", call_events("1.10", answered=True))
    assert call.answered_at == at(13)
    assert call.recording == RecordingRef("2026/03/07/1.10.ogg", "ogg")


def test_unanswered_call_has_no_recording_though_mixmonitor_ran() -> None:
    call = project("1.11", call_events("1.11", answered=False))
    assert call.missed
    assert call.recording is None


def test_no_recording_without_the_variable_or_off_the_layout() -> None:
    assert project("1.12", call_events("1.12", answered=True, filename=None)).recording is None
    odd = call_events("1.13", answered=True, filename="/tmp/0501234567.wav")
    assert project("1.13", odd).recording is None


def test_replayed_and_shuffled_rows_give_the_same_recording() -> None:
    rows = call_events("1.14", answered=True).rows()
    twice = rows + rows
    random.Random(7).shuffle(twice)
    assert project_call("1.14", twice, CONFIG) == project_call("1.14", rows, CONFIG)


async def _journal_and_project(sessions: async_sessionmaker[AsyncSession],
                               *calls: Ami) -> None:  # fmt: skip
    entries = [e for ami in calls for f in ami.facts() for e in fact_entries(f, call_key_of(f))]
    async with sessions() as session, session.begin():
        await insert_journal(session, entries)
        await store.project_calls(session, {e.call_key for e in entries if e.call_key}, CONFIG)


async def _recordings(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[object, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Recording.path, Recording.format, Recording.started_at, Recording.call_key,
                   Call.call_key, Recording.size_bytes)
            .join(Call, Call.id == Recording.call_id).order_by(Recording.path)
        )  # fmt: skip
        return [tuple(r) for r in rows]


async def test_store_keeps_one_row_per_answered_call_under_replay(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    answered = call_events("1.20", answered=True)
    abandoned = call_events("1.21", answered=False)
    for _ in range(2):  # the live pass, then a replay of the same journal
        await _journal_and_project(db_sessions, answered, abandoned)
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
