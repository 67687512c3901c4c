"""Keeps the reports' hourly sums current in the background, so that no report pays for them.

``clinicall run`` starts one.  Every ``every_s`` seconds it sums, for the clinic's thresholds,
the hours that writers marked changed and the hours never summed, from the first call to the
last whole hour, ``chunk_hours`` per transaction and newest first, both families of sums (the
KPI report's, then the survey, demand and staffing reports', each under its own built marks,
each chunk in a transaction of its own): a store just migrated with
a year of calls is summed in its first minute, while the tracker's writes go in between the
chunks (SQLite has one writer at a time).  A failure is logged and tried again next round.
Its first round also drops the sums kept for other thresholds (a config since changed, or a
one-off report), which nothing would read again.  Each finished round is counted
(``rounds``, ``last_summed``) and announced, so a health page or a test can wait for one
(``wait_rounds``) instead of polling the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call
from clinicall.db.models.rollups import HOURLY_SUM_TABLES
from clinicall.db.reach import unreachable
from clinicall.reports import rollup
from clinicall.reports.analytics_read import update_sums
from clinicall.reports.kpi import update_hourly_sums
from clinicall.reports.settings import KpiSettings

logger = logging.getLogger(__name__)


class HourlySumsKeeper:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: KpiSettings, *,
                 clock: Callable[[], datetime], every_s: float = 60.0,
                 chunk_hours: int = 168) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.every_s = every_s
        self.chunk = timedelta(hours=chunk_hours)
        self.rounds = 0  # rounds of the background loop finished (failed ones included)
        self.last_summed: int | None = None  # hours the last round summed (None: it failed)
        self._round_done = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def drop_other_thresholds(self) -> int:
        """Delete the hourly sums of every settings key but the clinic's; returns the rows."""
        key = rollup.settings_key(self.settings)
        dropped = 0
        async with self.sessions() as session, session.begin():
            for table in HOURLY_SUM_TABLES:
                result = await session.execute(delete(table).where(table.c.settings_key != key))
                dropped += cast(CursorResult[Any], result).rowcount or 0
        if dropped:
            logger.info("hourly sums: dropped %d rows kept for other thresholds", dropped)
        return dropped

    async def run_once(self) -> int:
        """One round; returns how many hours were summed (per chunk, the larger of the two
        families' counts: both sum the same missing hours unless a report summed its own)."""
        async with self.sessions() as session:
            first = await session.scalar(select(func.min(Call.started_at)))
        if first is None:
            return 0
        began = time.monotonic()
        end = self.clock().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        summed = 0
        while end > first:
            start = max(end - self.chunk, first.replace(minute=0, second=0, microsecond=0))
            async with self.sessions() as session:
                kpi = await update_hourly_sums(session, start=start, end=end,
                                               config=self.settings)
            async with self.sessions() as session:
                analytics = await update_sums(session, start=start, end=end,
                                              settings=self.settings)
            summed += max(kpi, analytics)  # the same missing hours, as a rule
            end = start
        if summed > 24:
            logger.info("hourly sums: %d hours summed in %.1f s", summed,
                        time.monotonic() - began)
        return summed

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="hourly-sums")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise  # we are being cancelled ourselves

    async def _loop(self) -> None:
        try:
            await self.drop_other_thresholds()
        except Exception:  # contained: the sums of other thresholds are only wasted space
            logger.warning("hourly sums: could not drop other thresholds' sums", exc_info=True)
        while True:
            summed: int | None = None
            try:
                summed = await self.run_once()
            except Exception as exc:  # contained: logged, tried again next round
                reason = unreachable(exc)  # an outage is one line, a defect its traceback
                logger.warning("hourly sums: update failed (%s), retrying in %.0f s",
                               reason or "a defect", self.every_s,
                               exc_info=None if reason else exc)
            async with self._round_done:
                self.rounds, self.last_summed = self.rounds + 1, summed
                self._round_done.notify_all()
            await asyncio.sleep(self.every_s)

    async def wait_rounds(self, count: int) -> None:
        """Until the background loop has finished ``count`` rounds since it started."""
        async with self._round_done:
            await self._round_done.wait_for(lambda: self.rounds >= count)
