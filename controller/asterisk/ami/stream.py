"""A bounded async iterator of AMI events for one consumer.

A consumer too slow for the event rate must not stall the socket reader (Pong replies would
be late and the connection declared dead), so when its queue is full new events are dropped,
counted in ``dropped`` and logged; accounting reconciles from ``queue_log`` afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType

from clinicall.controller.asterisk.ami.message import Message

log = logging.getLogger(__name__)


class EventStream:
    """``async for msg in stream``; ends after ``close()`` (or the client's close)."""

    def __init__(self, maxsize: int, unregister: Callable[[EventStream], None]) -> None:
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize)
        self._unregister = unregister
        self._closed = False
        self.dropped = 0

    def offer(self, msg: Message) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(msg)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("AMI event stream full: %d event(s) dropped so far", self.dropped)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._unregister(self)
        if self._queue.full():
            self._queue.get_nowait()  # make room for the end marker
        self._queue.put_nowait(None)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Message:
        msg = await self._queue.get()
        if msg is None:
            self._queue.put_nowait(None)  # keep ending for any further reader
            raise StopAsyncIteration
        return msg

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
