"""An operator flags "this call is a complaint" from the console: a case is opened for the
call (linked with its recordings, the topic the IVR routed it by), or the open case the call
already belongs to is returned, so a double click opens one case.  Only the operator who took
the call may flag it (the account says who: its queue attempts' agent); a call the account
has not written yet is refused (the console tries again, as with dispositions).
docs/recordings.md, "Complaint cases".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import Call, Complaint, ComplaintCall, QueueAttempt
from clinicall.recordings import complaints
from clinicall.settings.models import Complaints

MAX_NOTE = 2000


class FlagRefused(ValueError):
    """Said to the operator as it is (409)."""


@dataclass(frozen=True, slots=True)
class Flagged:
    case_id: int
    opened: bool  # False: the call already had a case


async def flag_call(session: AsyncSession, rules: Complaints, *, call_key: str,
                    operator_id: str, note: str, now: datetime,
                    user_id: int | None = None) -> Flagged:
    """Inside the caller's transaction (see the module docstring)."""
    call = await session.scalar(select(Call).where(Call.call_key == call_key))
    if call is None:
        raise FlagRefused("the call is not in the account yet")
    agents = set(await session.scalars(
        select(QueueAttempt.agent).where(QueueAttempt.call_id == call.id)))
    if operator_id not in agents:
        raise FlagRefused("only the operator who took the call may flag it")
    existing = await session.scalar(
        select(Complaint.id).join(ComplaintCall, ComplaintCall.complaint_id == Complaint.id)
        .where(ComplaintCall.call_id == call.id).order_by(Complaint.id))  # fmt: skip
    if existing is not None:
        return Flagged(existing, opened=False)
    summary = f"Flagged as a complaint by operator {operator_id}"
    if note.strip():
        summary += f": {note.strip()[:MAX_NOTE]}"
    case = await complaints.open_case(session, rules, summary=summary, now=now, call_id=call.id,
                                      phone=call.caller, topic=call.route, user_id=user_id)
    return Flagged(case.id, opened=True)
