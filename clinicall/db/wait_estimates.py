"""Storing the wait estimates announced to waiting callers (docs/callbacks.md, "Estimated
wait"): one row per announcement, the estimate beside the engine's own figure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import WaitEstimate


async def record_estimate(
    session: AsyncSession,
    *,
    call_key: str,
    queue: str,
    announced_at: datetime,
    estimate_s: float | None,
    engine_estimate_s: float | None,
) -> None:
    """Add one announcement to ``session`` (the caller commits).

    ``estimate_s`` None: no operator was logged in; ``engine_estimate_s`` None: the engine
    gave no figure (Asterisk's ``Holdtime`` is 0 before the queue's first answered call, which
    the caller passes as None: it is no estimate).
    """
    if announced_at.tzinfo is None:
        raise ValueError("announced_at must be an aware UTC instant")
    for value in (estimate_s, engine_estimate_s):
        if value is not None and value < 0:
            raise ValueError(f"a wait estimate cannot be negative, got {value}")
    session.add(WaitEstimate(call_key=call_key, queue=queue, announced_at=announced_at,
                             estimate_s=estimate_s, engine_estimate_s=engine_estimate_s))
