"""A voice message left in the IVR opens a case with the message as its first recording, on a
real SQLite store: linked to the call when the account has it, still filed when it has not
yet; the message's row waits for the importer like a call recording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db import create_engine, session_factory
from clinicall.db.models import (
    Call,
    Complaint,
    ComplaintCall,
    ComplaintRecording,
    ComplaintState,
    Direction,
    Recording,
)
from clinicall.db.writer import StoreWriter
from clinicall.recordings.voice_complaints import open_from_message
from clinicall.settings.models import Complaints

AT = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
PATH = "1764835200.4-complaint.wav"


@pytest.fixture
async def sessions(sqlite_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_db_url)
    yield session_factory(engine)
    await engine.dispose()


async def file_message(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int | None]:
    case = await open_from_message(sessions, Complaints(), call_key="1764835200.4",
                                   phone="+380501112233", spool_path=PATH, fmt="wav",
                                   seconds=12.0, topic="complaint", at=AT)
    return case.case_id, case.recording_id, case.call_id


async def test_the_case_holds_the_message_and_the_call(
    sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin(), StoreWriter(session):
        call = Call(call_key="1764835200.4", direction=Direction.INBOUND, started_at=AT)
        session.add(call)
        await session.flush()
        call_id = call.id

    case_id, recording_id, linked = await file_message(sessions)

    assert linked == call_id
    async with sessions() as session:
        case = await session.get_one(Complaint, case_id)
        row = await session.get_one(Recording, recording_id)
        links = list(await session.scalars(select(ComplaintRecording.recording_id)
                                           .where(ComplaintRecording.complaint_id == case_id)))
        calls = list(await session.scalars(select(ComplaintCall.call_id)
                                           .where(ComplaintCall.complaint_id == case_id)))
    assert (case.state, case.call_id, case.topic, case.phone) == (
        ComplaintState.NEW, call_id, "complaint", "+380501112233")
    assert "12 s" in case.summary
    assert case.due_at == datetime(2026, 12, 9, 8, 0, tzinfo=UTC)  # resolve_within_days: 5
    assert links == [recording_id]
    assert calls == [call_id]
    assert (row.path, row.format, row.sha256, row.call_id, row.call_key) == (
        PATH, "wav", "", call_id, "1764835200.4")  # the importer's to-do


async def test_without_the_call_yet_the_case_still_holds_the_message(
    sessions: async_sessionmaker[AsyncSession]
) -> None:
    case_id, recording_id, linked = await file_message(sessions)
    assert linked is None
    async with sessions() as session:
        case = await session.get_one(Complaint, case_id)
        links = list(await session.scalars(select(ComplaintRecording.recording_id)
                                           .where(ComplaintRecording.complaint_id == case_id)))
    assert case.call_id is None
    assert links == [recording_id]
