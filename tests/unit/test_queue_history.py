"""The queues' recent history the estimated wait reads (``db/queue_history.py``), on both
stores: handle times (talk + the queue's wrap-up) of the latest answered calls, newest first,
and the abandons and seconds waited of the latest finished live calls; other queues, calls
that joined before the window and other outcomes left out; a read reused for a minute; a store
that fails keeps the last history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import seed_attempts

from clinicall.db.models import (
    QueueOutcome,
)
from clinicall.db.queue_history import (
    LAST,
    NO_HISTORY,
    REFRESH,
    WINDOW,
    QueueHistory,
    RecentQueues,
)

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def recent(sessions: async_sessionmaker[AsyncSession]) -> RecentQueues:
    return RecentQueues(sessions, wrapup_s=lambda queue: 5.0)


async def test_handle_times_newest_first_and_the_abandonment_rate(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    minute = timedelta(minutes=1)
    await seed_attempts(db_sessions, [
        ("universal", QueueOutcome.ANSWERED, 100.0, 30 * minute),
        ("universal", QueueOutcome.ANSWERED, 200.0, 10 * minute),  # the newest answered
        ("universal", QueueOutcome.ABANDONED, None, 20 * minute),
        ("universal", QueueOutcome.EXIT_KEY, None, 5 * minute),  # not a live caller's end
        ("universal", QueueOutcome.ABANDONED, None, WINDOW + minute),  # before the window
        ("therapy", QueueOutcome.ABANDONED, None, 5 * minute),  # another queue
    ], NOW)
    history = await recent(db_sessions).history("universal", NOW)
    # three live callers' ends, each waited 30 s, one of them abandoned
    assert history == QueueHistory(handle_s=(205.0, 105.0), abandoned=1,
                                   waited_s=90.0)
    assert await recent(db_sessions).history("pediatrics", NOW) == NO_HISTORY


async def test_only_the_latest_calls_count(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    second = timedelta(seconds=1)
    await seed_attempts(db_sessions, [
        ("universal", QueueOutcome.ANSWERED, 60.0, 3000 * second),
        *(("universal", QueueOutcome.ABANDONED, None, n * second) for n in range(1, LAST + 1))],
        NOW)
    history = await recent(db_sessions).history("universal", NOW)
    assert history.handle_s == ()  # the one answered call is older than the latest LAST
    assert (history.abandoned, history.waited_s) == (LAST, LAST * 30.0)


async def test_a_read_is_reused_for_a_minute_and_kept_when_the_store_fails(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    queues = recent(db_sessions)
    await seed_attempts(db_sessions,
                        [("universal", QueueOutcome.ANSWERED, 100.0, timedelta(minutes=5))], NOW)
    first = await queues.history("universal", NOW)
    await seed_attempts(db_sessions,
                        [("universal", QueueOutcome.ABANDONED, None, timedelta(minutes=1))], NOW)
    assert await queues.history("universal", NOW + REFRESH / 2) == first
    later = await queues.history("universal", NOW + REFRESH)
    assert (later.abandoned, later.waited_s) == (1, 60.0)  # one abandon in two 30 s waits

    def broken() -> AsyncSession:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    queues.sessions = broken  # type: ignore[assignment]
    assert await queues.history("universal", NOW + 3 * REFRESH) == later
    assert await queues.history("therapy", NOW + 3 * REFRESH) == NO_HISTORY

