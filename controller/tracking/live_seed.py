"""The operators' grid when the engine link comes up: the engine's queue members now.

The live state learns an operator's state from facts, which come only when something changes;
after a (re)connect an idle or paused operator would be missing from the wallboard until their
next call.  So on every link-up fact this asks the engine for its queue status (through the
engine port's ``queue_status``, which has its own deadline) and folds each member in as a
``MemberSeen``.  A failure is logged and waits for the next link-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from clinicall.controller.facts import EngineLink, Fact, MemberSeen
from clinicall.controller.port import EngineControl, EngineError
from clinicall.controller.tracking.live import LiveState

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MemberSeed:
    """Subscribe ``handle_fact`` to the engine; ``close`` when done."""

    def __init__(self, live: LiveState, control: EngineControl,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._live, self._control, self._clock = live, control, clock
        self._task: asyncio.Task[None] | None = None
        self.seeded = asyncio.Event()  # set after each completed seed (tests wait on it)
        self.tried = asyncio.Event()  # set after each attempt, done or failed

    def handle_fact(self, fact: Fact) -> None:
        if isinstance(fact, EngineLink) and fact.up and (self._task is None
                                                          or self._task.done()):
            self._task = asyncio.create_task(self._seed(), name="live-member-seed")

    async def _seed(self) -> None:
        try:
            await self._fold()
        finally:
            self.tried.set()

    async def _fold(self) -> None:
        try:
            queues = await self._control.queue_status()
        except EngineError as exc:
            log.warning("queue members not read after the link came up: %s", exc)
            return
        now = self._clock()
        for queue in queues:
            for m in queue.members:
                self._live.apply(MemberSeen(
                    key=f"seed-{queue.queue}-{m.member}-{now.timestamp()}", at=now,
                    queue=queue.queue, member=m.member, member_name=m.member_name,
                    state=m.state, paused=m.paused, pause_reason=m.pause_reason))
        self.seeded.set()

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
