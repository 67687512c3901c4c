"""The importer on a period, inside ``clinicall run``: no one has to type
``clinicall recordings import`` for a call to reach the player.

One owned task runs a pass every ``recordings.import_every_s`` (or at once when woken); the
pass itself is :class:`recordings.importer.Importer`'s, whose decoding and transcoding run in
this loop's own one-thread executor, never on the event loop, and one at a time so a burst of
calls cannot take both cores from the controller.  A pass that fails (the store is down,
another process holds the import lock) is logged and counted, and the next period tries again.
:meth:`ImportLoop.close` lets a running pass finish its current file (the importer leaves a
state the next run completes even when killed, docs/recordings.md "Import") and then stops.

What an operator of the service needs to see is kept in :class:`ImportHealth` (on ``/metrics``:
``clinicall_recordings_*``): when the last pass ended, how many rows still wait for their
file, how many files failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Recording
from clinicall.recordings.importer import Importer, ImportReport

log = logging.getLogger(__name__)


@dataclass
class ImportHealth:
    """The import's state for ``/metrics``; None/0 until the first pass."""

    last_pass_at: datetime | None = None  # the last pass that ended, with or without errors
    last_imported_at: datetime | None = None  # the last pass that imported at least one file
    pending: int = 0  # rows whose file is not imported yet (after the last pass)
    failed_files: int = 0  # files that failed, summed over passes
    failed_passes: int = 0  # passes that could not run (store down, lock held)
    imported_total: int = 0


async def count_pending(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Rows still pointing into the engine's spool (the importer's to-do list)."""
    async with sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(Recording)
            .where(Recording.sha256 == "", Recording.deleted_at.is_(None)))  # fmt: skip
    return int(found or 0)


class ImportLoop:
    """See the module docstring.  Build it with :meth:`for_importer` to give the importer
    this loop's executor."""

    def __init__(self, importer: Importer, *, every_s: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if every_s <= 0:
            raise ValueError("the import period must be positive")
        self.importer = importer
        self.every_s = every_s
        self.clock = clock
        self.health = ImportHealth()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._passes = asyncio.Condition()
        self._done = 0
        self._running_pass = False
        self._executor: ThreadPoolExecutor | None = None
        self._last_problem: str | None = None

    @classmethod
    def for_importer(cls, make: Callable[[Executor], Importer], *, every_s: float,
                     clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ImportLoop:
        """``make`` builds the importer around this loop's one-thread executor."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recordings-import")
        loop = cls(make(executor), every_s=every_s, clock=clock)
        loop._executor = executor
        return loop

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="recordings-import")

    async def close(self) -> None:
        """Stop after the current file; the executor's thread is joined off the loop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._executor is not None:
            await asyncio.to_thread(self._executor.shutdown, wait=True)

    def wake(self) -> None:
        """Run a pass now (a call with a recording just ended)."""
        self._wake.set()

    async def next_pass(self) -> None:
        """Until a pass that started after this call has ended (tests, the CLI's status)."""
        async with self._passes:
            target = self._done + 2 if self._running_pass else self._done + 1
            await self._passes.wait_for(lambda: self._done >= target)

    async def run_once(self) -> ImportReport | None:
        """One pass; None when it could not run (logged, counted in the health)."""
        self._running_pass = True
        try:
            report = await self.importer.run(keep_going=lambda: not self._stopping)
        except Exception as exc:  # the store, the lock, the storage: the next pass retries
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self._last_problem:  # one line per new problem, not every period
                log.warning("recordings import pass failed: %s", problem)
            self._last_problem = problem
            self.health.failed_passes += 1
            report = None
        else:
            self._last_problem = None
        finally:
            self._running_pass = False
        now = self.clock()
        self.health.last_pass_at = now
        if report is not None:
            self._account(report, now)
        try:
            self.health.pending = await count_pending(self.importer.sessions)
        except Exception:
            log.exception("could not count the recordings waiting for import")
        async with self._passes:
            self._done += 1
            self._passes.notify_all()
        return report

    def _account(self, report: ImportReport, now: datetime) -> None:
        if report.imported:
            self.health.last_imported_at = now
            self.health.imported_total += report.imported
        self.health.failed_files += len(report.failed)
        for rid, why in sorted(report.failed.items()):
            log.warning("recording %s not imported: %s", rid, why)

    async def _loop(self) -> None:
        while not self._stopping:
            await self.run_once()
            await self._sleep()

    async def _sleep(self) -> None:
        """Until the period ends or :meth:`wake` / :meth:`close` is called."""
        if self._stopping:
            return
        try:
            async with asyncio.timeout(self.every_s):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()
