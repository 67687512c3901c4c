"""The tasks one call started, owned together: a hang-up or a dropped connection ends them all.

A FastAGI session may run work beside its AGI commands (a lookup, a timer, a write to the
call account).  Started through :meth:`CallScope.start`, that work belongs to the call: the
channel cancels it the moment the caller hangs up or the connection drops, and the server
awaits it before the session ends, so no task outlives its call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from clinicall.agi_scripts.protocol import AgiChannelGone
from clinicall.logbudget import excerpt

log = logging.getLogger(__name__)

T = TypeVar("T")


class CallScope:
    """An owned set of tasks; :meth:`cancel` ends them, :meth:`aclose` also awaits them."""

    def __init__(self, call: str) -> None:
        self._call = call  # the channel's uniqueid, for log lines
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def running(self) -> bool:
        """Whether any task of the call is still running."""
        return bool(self._tasks)

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        """The tasks still running."""
        return frozenset(self._tasks)

    def start(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``coro`` as part of the call; AgiChannelGone once the call has ended."""
        if self._closed:
            coro.close()
            raise AgiChannelGone("the call has ended")
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def cancel(self) -> None:
        """End every task of the call (idempotent); later :meth:`start` calls are refused."""
        self._closed = True
        for task in self._tasks:
            task.cancel()

    async def aclose(self) -> None:
        """Cancel and await every task of the call."""
        self.cancel()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.warning(
                "AGI %s: a task of the call failed: %s: %s",
                self._call,
                type(error).__name__,
                excerpt(str(error)),
            )
