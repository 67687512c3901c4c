"""What the account says of a queue's recent calls, for the estimated wait a patient hears
(``routing.wait_estimate``): the handle times of its last answered calls and how often its
last live callers hung up while waiting, per second waited (docs/callbacks.md, "Estimated
wait").

:class:`RecentQueues` reads it at most once a minute per queue (the index on
``queue_attempts(queue, joined_at)`` serves the read), so an offer or a round of the threshold
watcher costs no query of its own most of the time; a failed read keeps the last history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import QueueAttempt, QueueOutcome

log = logging.getLogger(__name__)

#: How far back a queue's calls count, and how many of the latest at most.
WINDOW = timedelta(hours=2)
LAST = 50
#: How long a read is reused.
REFRESH = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class QueueHistory:
    """``handle_s``: talk plus the queue's wrap-up of its latest answered calls (newest first);
    ``abandoned``: how many of its latest finished live calls (answered or abandoned) hung
    up while waiting, ``waited_s``: the seconds all of them waited, what the abandonment rate
    is made of (``routing.wait_estimate.abandon_rate_per_s``).  Empty before any call: the
    estimate then uses ``default_handle_s`` and no correction."""

    handle_s: tuple[float, ...] = ()
    abandoned: int = 0
    waited_s: float = 0.0


#: Before any call, or without a store: the configured handle time and no correction.
NO_HISTORY = QueueHistory()


async def read_history(session: AsyncSession, queue: str, *, since: datetime,
                       wrapup_s: float, last: int = LAST) -> QueueHistory:  # fmt: skip
    """The history of ``queue`` from the calls that joined it since ``since``."""
    rows = (await session.execute(
        select(QueueAttempt.outcome, QueueAttempt.talk_s, QueueAttempt.wait_s)
        .where(QueueAttempt.queue == queue, QueueAttempt.joined_at >= since,
               QueueAttempt.outcome.in_((QueueOutcome.ANSWERED, QueueOutcome.ABANDONED)))
        .order_by(QueueAttempt.joined_at.desc()).limit(last))).all()  # fmt: skip
    handle = tuple(talk + wrapup_s for outcome, talk, _ in rows
                   if outcome is QueueOutcome.ANSWERED and talk is not None)  # fmt: skip
    abandoned = sum(1 for outcome, _, _ in rows if outcome is QueueOutcome.ABANDONED)
    waited_s = sum(wait or 0.0 for _, _, wait in rows)
    return QueueHistory(handle, abandoned, waited_s)


class RecentQueues:
    """Each queue's :class:`QueueHistory`, read again when older than :data:`REFRESH`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 wrapup_s: Callable[[str], float]) -> None:  # fmt: skip
        self.sessions, self.wrapup_s = sessions, wrapup_s
        self._read: dict[str, tuple[datetime, QueueHistory]] = {}

    async def history(self, queue: str, now: datetime) -> QueueHistory:
        kept = self._read.get(queue)
        if kept is not None and now - kept[0] < REFRESH:
            return kept[1]
        try:
            async with self.sessions() as session:
                found = await read_history(session, queue, since=now - WINDOW,
                                           wrapup_s=self.wrapup_s(queue))  # fmt: skip
        except (SQLAlchemyError, OSError) as error:  # the store is away: the last one holds
            log.warning("queue %s: recent calls not read (%s)", queue, error)
            return kept[1] if kept is not None else NO_HISTORY
        self._read[queue] = (now, found)
        return found
