"""``heap.settle``: what exists when the service is up is frozen; what comes later is still
collected (docs/architecture.md, "The IVR's latency")."""

from __future__ import annotations

import gc
import weakref

from clinicall import heap


class Node:
    """A cycle's member (weakly referenceable, so its collection can be seen)."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_settle_freezes_what_lives_and_collects_what_comes_after() -> None:
    before = cycle()  # garbage made before: settle's collection frees it
    try:
        heap.settle()
        assert before() is None
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        after = cycle()  # garbage made after: the collector still frees it
        gc.collect()
        assert after() is None
        assert gc.get_freeze_count() == frozen  # not frozen, not counted
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
