"""A complaint left as a voice message in the IVR becomes a case (issue 13, "A complaint from
the phone"): the message's ``recordings`` row (the engine's file in its spool, not imported
yet: the importer takes it like a call recording) and a new case linked to the call, with the
message as its first recording.  docs/recordings.md, "Complaint cases".

Written beside the call, never while the patient waits (the controller owns the task); the
account's row of the call may still be on its way, so the caller of :func:`open_from_message`
flushes the account first and the call is linked when it is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call, ComplaintRecording, Recording
from clinicall.recordings import complaints
from clinicall.settings.models import Complaints

#: What the case says until someone has listened (the message holds the complaint itself).
SUMMARY = "Voice message left in the phone menu ({seconds:.0f} s): listen to the recording"


@dataclass(frozen=True, slots=True)
class MessageCase:
    case_id: int
    recording_id: int
    call_id: int | None  # None when the account had no row for the call yet


async def open_from_message(sessions: async_sessionmaker[AsyncSession], rules: Complaints, *,
                            call_key: str, phone: str | None, spool_path: str, fmt: str,
                            seconds: float, topic: str | None,
                            at: datetime) -> MessageCase:  # fmt: skip
    """One transaction: the message's row (kept if it exists: a retry) and the case."""
    async with sessions() as session, session.begin():
        call_id = await session.scalar(select(Call.id).where(Call.call_key == call_key))
        row = await session.scalar(select(Recording).where(Recording.path == spool_path))
        if row is None:
            row = Recording(path=spool_path, call_key=call_key, format=fmt, size_bytes=0,
                            sha256="", started_at=at, imported_at=at)
            session.add(row)
        row.call_id = call_id
        await session.flush()
        case = await complaints.open_case(
            session, rules, summary=SUMMARY.format(seconds=seconds), now=at,
            phone=phone or None, call_id=call_id, topic=topic)  # fmt: skip
        if await session.get(ComplaintRecording, (case.id, row.id)) is None:
            session.add(ComplaintRecording(complaint_id=case.id, recording_id=row.id))
        return MessageCase(case.id, row.id, call_id)
