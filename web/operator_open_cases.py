"""The screen-pop's open cases of the caller's number: callback jobs not settled yet and
complaint cases not resolved yet, so the operator knows before saying hello that the clinic
owes this patient a call or an answer (docs/console.md, "Screen-pop").

A callback job is the number's when its ``phone`` (E.164) is the number.  A complaint case is
the number's when its ``phone`` is the number, or a call it was opened on or linked to came
from the number (a case opened from a call often has no phone of its own).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call, Callback, CallbackState, Complaint, ComplaintCall
from clinicall.db.models import ComplaintState as Case

OPEN_JOBS = (CallbackState.PENDING, CallbackState.CLAIMED)
OPEN_CASES = (Case.NEW, Case.ACKNOWLEDGED, Case.INVESTIGATING)
MAX_EACH = 10
SUMMARY_CHARS = 120


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"


async def open_cases(sessions: async_sessionmaker[AsyncSession], number: str, *,
                     zone: ZoneInfo) -> dict[str, list[dict[str, object]]]:
    """``{"callbacks": [...], "complaints": [...]}`` of ``number`` (E.164), oldest first."""
    async with sessions() as session:
        jobs = (await session.scalars(
            select(Callback).where(Callback.phone == number, Callback.state.in_(OPEN_JOBS))
            .order_by(Callback.arrived_at, Callback.id).limit(MAX_EACH))).all()
        linked = select(ComplaintCall.complaint_id).join(
            Call, Call.id == ComplaintCall.call_id).where(Call.caller == number)
        opened_on = select(Call.id).where(Call.caller == number)
        cases = (await session.scalars(
            select(Complaint).where(
                Complaint.state.in_(OPEN_CASES),
                or_(Complaint.phone == number, Complaint.id.in_(linked),
                    Complaint.call_id.in_(opened_on)))
            .order_by(Complaint.opened_at, Complaint.id).limit(MAX_EACH))).all()
    return {
        "callbacks": [{"id": j.id, "state": j.state.value, "reason": j.reason.value,
                       "queue": j.queue or "", "attempts": j.attempts,
                       "due_local": _local(j.due_at, zone)} for j in jobs],
        "complaints": [{"id": c.id, "state": c.state.value, "topic": c.topic or "",
                        "opened_local": _local(c.opened_at, zone),
                        "summary": _short(c.summary)} for c in cases],
    }
