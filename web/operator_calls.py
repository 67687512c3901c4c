"""The store's part of the operator's page: a number's previous calls, and the disposition an
operator gives a call they answered (columns of migration 0012)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call, QueueAttempt
from clinicall.db.writer import StoreWriter

PREVIOUS_DAYS = 30
PREVIOUS_MAX = 10


async def previous_calls(sessions: async_sessionmaker[AsyncSession], number: str,
                         now: datetime, *, zone: ZoneInfo,
                         exclude: str = "") -> list[dict[str, object]]:
    """The number's calls of the last 30 days, newest first, with their outcome."""
    since = now - timedelta(days=PREVIOUS_DAYS)
    async with sessions() as session:
        calls = (await session.scalars(
            select(Call).where(Call.caller == number, Call.started_at >= since,
                               Call.call_key != exclude)
            .order_by(Call.started_at.desc()).limit(PREVIOUS_MAX))).all()
    return [{"call_id": c.call_key, "at": c.started_at.isoformat(),
             "at_local": c.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
             "route": c.route or "",
             "outcome": _outcome(c), "disposition": c.disposition or ""} for c in calls]


OWN_DAYS = 7
OWN_MAX = 20


async def own_calls(sessions: async_sessionmaker[AsyncSession], operator_id: str,
                    now: datetime, *, zone: ZoneInfo) -> list[dict[str, object]]:
    """The calls the operator took in the last 7 days, newest first (an operator sees only
    their own history): what they may flag as a complaint afterwards."""
    since = now - timedelta(days=OWN_DAYS)
    async with sessions() as session:
        calls = (await session.scalars(
            select(Call).join(QueueAttempt, QueueAttempt.call_id == Call.id)
            .where(QueueAttempt.agent == operator_id, QueueAttempt.joined_at >= since,
                   QueueAttempt.connected_at.is_not(None))
            .order_by(Call.started_at.desc()).limit(OWN_MAX))).unique().all()
    return [{"call_id": c.call_key, "number": c.caller or "",
             "at_local": c.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
             "route": c.route or "", "disposition": c.disposition or ""} for c in calls]


def _outcome(call: Call) -> str:
    if call.missed:
        return f"missed ({call.miss_cause.value})" if call.miss_cause else "missed"
    if call.answered_at is not None:
        return "answered"
    return call.ivr_outcome.value if call.ivr_outcome else "unknown"


class DispositionRefused(Exception):
    """Why a disposition was not stored (said to the operator as is)."""


async def store_disposition(sessions: async_sessionmaker[AsyncSession], call_key: str,
                            operator_id: str, disposition: str, now: datetime) -> None:
    """Mark a call the operator answered.  Refused for an unknown call (the account writes a
    call a few seconds after it ends: the page tries again) or one another operator took."""
    async with sessions.begin() as session, StoreWriter(session) as writer:
        call = await session.scalar(select(Call).where(Call.call_key == call_key))
        if call is None:
            raise DispositionRefused("the call is not in the account yet")
        agents = set(await session.scalars(
            select(QueueAttempt.agent).where(QueueAttempt.call_id == call.id)))
        if operator_id not in agents:
            raise DispositionRefused("another operator took this call")
        call.disposition, call.disposition_by, call.disposition_at = (
            disposition, operator_id, now)
        # Reports will count first-contact resolution from dispositions: re-sum its hour.
        writer.call_changed(call.direction, call.caller, call.dialled, call.started_at)
