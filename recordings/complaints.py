"""Complaint cases: opened, acknowledged to the patient, investigated, resolved and reviewed,
each step to a deadline from the config (``complaints:``), every step an event of the case.

Here rather than in a ``complaints/`` package: a case's reason to exist in this system is the
conversations behind it, its links are what holds recordings against retention
(:mod:`recordings.retention`), and it needs nothing beyond the store and the settings, so it
would be a layer with the same imports as ``recordings/`` and one more folder to wire.
docs/recordings.md, "Complaint cases".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import (
    Call,
    Complaint,
    ComplaintCall,
    ComplaintEvent,
    ComplaintRecording,
    ComplaintState,
    Recording,
)
from clinicall.settings.models import Complaints

#: Each state's one next step.
NEXT: dict[ComplaintState, ComplaintState] = {
    ComplaintState.NEW: ComplaintState.ACKNOWLEDGED,
    ComplaintState.ACKNOWLEDGED: ComplaintState.INVESTIGATING,
    ComplaintState.INVESTIGATING: ComplaintState.RESOLVED,
    ComplaintState.RESOLVED: ComplaintState.REVIEWED,
}
UNRESOLVED = (ComplaintState.NEW, ComplaintState.ACKNOWLEDGED, ComplaintState.INVESTIGATING)


class CaseError(ValueError):
    """A step the case cannot take (said to the user as it is)."""


async def open_case(session: AsyncSession, rules: Complaints, *, summary: str, now: datetime,
                    phone: str | None = None, call_id: int | None = None,
                    owner_id: int | None = None, topic: str | None = None,
                    user_id: int | None = None) -> Complaint:
    """A new case with its deadlines; linked to ``call_id`` (and its recordings) if given."""
    if not summary.strip():
        raise CaseError("a complaint needs a summary")
    if call_id is not None and await session.get(Call, call_id) is None:
        raise CaseError(f"no call {call_id}")
    case = Complaint(summary=summary.strip(), phone=phone, call_id=call_id, owner_id=owner_id,
                     topic=topic, state=ComplaintState.NEW, opened_at=now,
                     acknowledge_due_at=now + timedelta(hours=rules.acknowledge_within_hours),
                     due_at=now + timedelta(days=rules.resolve_within_days))  # fmt: skip
    session.add(case)
    await session.flush()
    session.add(ComplaintEvent(complaint_id=case.id, user_id=user_id, at=now, kind="opened",
                               note=""))
    if call_id is not None:
        await link_call(session, case.id, call_id, user_id=user_id, now=now)
    return case


async def advance(session: AsyncSession, case_id: int, to: ComplaintState, *, now: datetime,
                  user_id: int | None = None, note: str = "") -> Complaint:
    """Take the case's next step (only the next one: no step is skipped)."""
    case = await session.get(Complaint, case_id)
    if case is None:
        raise CaseError(f"no complaint case {case_id}")
    if NEXT.get(case.state) != to:
        raise CaseError(f"a case that is {case.state.value} cannot become {to.value}")
    if to is ComplaintState.RESOLVED and not note.strip():
        raise CaseError("resolving a case needs the decision (the note)")
    case.state = to
    if to is ComplaintState.ACKNOWLEDGED:
        case.acknowledged_at = now
    elif to is ComplaintState.RESOLVED:
        case.resolved_at, case.resolution = now, note.strip()
    elif to is ComplaintState.REVIEWED:
        case.reviewed_at = now
    session.add(ComplaintEvent(complaint_id=case.id, user_id=user_id, at=now, kind=to.value,
                               note=note.strip()))
    return case


async def link_call(session: AsyncSession, case_id: int, call_id: int, *, now: datetime,
                    user_id: int | None = None) -> int:
    """Attach a call and every recording of it; the number of recordings newly linked."""
    if await session.get(Call, call_id) is None:
        raise CaseError(f"no call {call_id}")
    if await session.get(ComplaintCall, (case_id, call_id)) is None:
        session.add(ComplaintCall(complaint_id=case_id, call_id=call_id))
        session.add(ComplaintEvent(complaint_id=case_id, user_id=user_id, at=now,
                                   kind="call linked", note=str(call_id)))
    linked = 0
    for rid in await session.scalars(select(Recording.id).where(Recording.call_id == call_id)):
        if await session.get(ComplaintRecording, (case_id, rid)) is None:
            session.add(ComplaintRecording(complaint_id=case_id, recording_id=rid))
            linked += 1
    await session.flush()
    return linked


@dataclass(frozen=True, slots=True)
class Overdue:
    """Cases past a deadline now: not acknowledged in time, not resolved in time."""

    acknowledge: int
    resolve: int


async def overdue(session: AsyncSession, now: datetime) -> Overdue:
    ack = await session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.state == ComplaintState.NEW, Complaint.acknowledge_due_at < now))
    resolve = await session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.state.in_(UNRESOLVED), Complaint.due_at < now))
    return Overdue(int(ack or 0), int(resolve or 0))


def is_overdue(case: Complaint, now: datetime) -> bool:
    """Past the deadline of the step it waits for."""
    ack_due = case.acknowledge_due_at
    if case.state is ComplaintState.NEW and ack_due is not None and ack_due < now:
        return True
    return case.state in UNRESOLVED and case.due_at < now


async def _case(session: AsyncSession, case_id: int) -> Complaint:
    case = await session.get(Complaint, case_id)
    if case is None:
        raise CaseError(f"no complaint case {case_id}")
    return case


async def add_note(session: AsyncSession, case_id: int, note: str, *, now: datetime,
                   user_id: int | None = None) -> None:
    """A reviewer's note on the case (an event of its own)."""
    await _case(session, case_id)
    if not note.strip():
        raise CaseError("a note needs text")
    session.add(ComplaintEvent(complaint_id=case_id, user_id=user_id, at=now, kind="note",
                               note=note.strip()))


async def record_reply(session: AsyncSession, case_id: int, reply: str, *, now: datetime,
                       user_id: int | None = None) -> None:
    """What the patient was sent (the letter, the decision); the last one is the case's."""
    case = await _case(session, case_id)
    if not reply.strip():
        raise CaseError("a reply needs text")
    case.reply = reply.strip()
    session.add(ComplaintEvent(complaint_id=case_id, user_id=user_id, at=now,
                               kind="reply sent", note=reply.strip()))


async def set_owner(session: AsyncSession, case_id: int, owner_id: int, owner_name: str, *,
                    now: datetime, user_id: int | None = None) -> None:
    """Who runs the case from now on."""
    case = await _case(session, case_id)
    case.owner_id = owner_id
    session.add(ComplaintEvent(complaint_id=case_id, user_id=user_id, at=now, kind="owner",
                               note=owner_name))


async def calls_from(session: AsyncSession, phone: str, start: datetime,
                     end: datetime) -> list[int]:
    """The calls from ``phone`` (as the account stores it, E.164) that began in
    ``[start, end)``: what a manager attaches by number and date."""
    return list(await session.scalars(
        select(Call.id).where(Call.caller == phone, Call.started_at >= start,
                              Call.started_at < end).order_by(Call.started_at)))


@dataclass(frozen=True, slots=True)
class CaseFile:
    """A case with its history, its calls and its recordings."""

    case: Complaint
    events: list[ComplaintEvent]
    call_ids: list[int]
    recording_ids: list[int]


async def case_file(session: AsyncSession, case_id: int) -> CaseFile:
    case = await _case(session, case_id)
    events = list(await session.scalars(select(ComplaintEvent).where(
        ComplaintEvent.complaint_id == case_id).order_by(ComplaintEvent.at, ComplaintEvent.id)))
    calls = list(await session.scalars(select(ComplaintCall.call_id).where(
        ComplaintCall.complaint_id == case_id).order_by(ComplaintCall.call_id)))
    recordings = list(await session.scalars(select(ComplaintRecording.recording_id).where(
        ComplaintRecording.complaint_id == case_id).order_by(ComplaintRecording.recording_id)))
    return CaseFile(case, events, calls, recordings)
