"""What the account is told on the simulated day, in the order of its virtual instants.

The day's parts decide their facts ahead of time (the IVR when a call starts, the floor when an
operator answers: the call's end is known then), but the account must get them as an engine
gives them, in time order, and the callback scheduler between them must see the store as it
stands at its instant.  So everything for the account waits here, ordered by (instant, order):
a call's channel opened (order 0), the IVR's outcome or a survey's answers (1), a channel the
IVR or the survey closed (2), then the floor's facts in the order it decided them (3 + its own
sequence); the run hands out each instant's items once it reached it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

CHANNEL_OPENED, ACCOUNT_WRITE, CHANNEL_CLOSED, FLOOR = 0, 1, 2, 3


class Timeline:
    """Items for the account, handed out in (instant, order) order."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, object]] = []
        self._seq = 0

    def push(self, at_ms: int, order: int, item: object) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at_ms, order, self._seq, item))

    def next_at(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def until(self, at_ms: int) -> Iterator[tuple[int, object]]:
        """Every item up to ``at_ms``, in order (items pushed meanwhile included)."""
        while self._heap and self._heap[0][0] <= at_ms:
            at, _, _, item = heapq.heappop(self._heap)
            yield at, item

    def __len__(self) -> int:
        return len(self._heap)
