"""Exact place: who is served next when an operator frees up, live callers and callbacks alike.

A patient who takes a callback keeps their place in line (docs/callbacks.md, "Exact place"):
the callback is served after everyone who joined before them and before everyone who joined
after, counting live callers and other pending callbacks alike.  The order is Asterisk's own
queue order (``queues.conf``: a higher priority is served first, then the earliest arrival),
applied to one list that holds both kinds, so a callback's place is its original arrival.

Two guards keep callbacks from hurting live callers:

- **Never more callbacks in flight than free operators**: a callback is started only for a
  free operator that no other callback has reserved (:func:`callbacks_to_start`).
- **A late callback goes first**, only when the clinic asks for it (``callbacks.promote_after_min``,
  default none): a callback not yet tried that long after its call is *promoted*, ahead of the
  live callers and the callbacks not promoted of its priority, so the target for returning a
  missed call holds on a day the line is longer than that target (docs/callbacks.md,
  "Exact place").  It is the clinic's choice of the returned call over the place of callers
  who joined before it; the promoted ones keep their arrival order among themselves.
- **A live-caller share** (``callbacks.live_share``, default 0: strict arrival order): within
  the top priority, when the head of the line is a callback while a live caller waits and fewer
  than that share of the last ``share_window`` serves went to live callers, the earliest live
  caller goes first.  A lower-priority live caller never passes a higher-priority callback.

All functions are pure: the scheduler passes what it knows now (the waiting live callers from
the engine's queue status, the pending callbacks from the store) and acts on the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class WaiterKind(StrEnum):
    LIVE = "live"  # a caller on the line, in the engine's queue
    CALLBACK = "callback"  # a pending callback job holding its place


@dataclass(frozen=True, slots=True)
class Waiter:
    """One entity in a queue's line.  ``key``: the engine's channel id or the job id, unique in
    the line and the last tie-break, so the order is total and the same on every controller."""

    kind: WaiterKind
    key: str
    arrived_at: datetime  # a callback's is the original call's arrival (its place)
    priority: int
    promoted: bool = False  # a late callback the policy puts first (see the module docstring)


@dataclass(frozen=True, slots=True)
class SharePolicy:
    """``live_share``: the least share of recent serves owed to live callers (0: none owed).
    ``window``: how many recent serves that share is counted over."""

    live_share: float = 0.0
    window: int = 10


STRICT = SharePolicy()


def line_order(waiting: Iterable[Waiter]) -> list[Waiter]:
    """The line in Asterisk's order: higher priority first, then earliest arrival, except that
    within a priority the promoted callbacks go first (by arrival among themselves).

    At the same instant a live caller goes before a callback (they are on the line now), and
    then the key decides.
    """
    return sorted(
        waiting,
        key=lambda w: (-w.priority, not w.promoted, w.arrived_at, w.kind != WaiterKind.LIVE,
                       w.key),
    )


def is_promoted(arrived_at: datetime, tried: bool, now: datetime,
                promote_after: timedelta | None) -> bool:  # fmt: skip
    """Whether a callback goes ahead of the line now: the policy promotes (``promote_after``
    set), the callback was never tried (the target is the first attempt's) and its call is at
    least ``promote_after`` old."""
    return promote_after is not None and not tried and now - arrived_at >= promote_after


def position(waiter: Waiter, waiting: Iterable[Waiter]) -> int:
    """The 1-based place of ``waiter`` in strict order, the place a patient hears announced.

    Counts everyone ahead, live callers and callbacks alike; raises ValueError when
    ``waiter`` is not in ``waiting``.
    """
    line = line_order(waiting)
    if waiter not in line:
        raise ValueError(f"{waiter.kind} {waiter.key!r} is not in this line")
    return line.index(waiter) + 1


def ahead_of(waiter: Waiter, waiting: Iterable[Waiter]) -> tuple[int, int]:
    """How many live callers and how many callbacks are ahead of ``waiter`` (strict order);
    ValueError when ``waiter`` is not in ``waiting``."""
    line = line_order(waiting)
    ahead = line[: position(waiter, line) - 1]
    live = sum(1 for w in ahead if w.kind == WaiterKind.LIVE)
    return live, len(ahead) - live


def live_share_owed(recent: Sequence[WaiterKind], policy: SharePolicy) -> bool:
    """Whether live callers are owed the next serve: their share of the last ``window`` serves
    (``recent``, oldest first) is below ``live_share``.  No history owes nothing, unless a
    share is configured (then the first serve goes to a live caller)."""
    if policy.live_share <= 0:
        return False
    window = recent[-policy.window :]
    if not window:
        return True
    live = sum(1 for kind in window if kind == WaiterKind.LIVE)
    return live / len(window) < policy.live_share


def _pick(line: list[Waiter], recent: Sequence[WaiterKind], policy: SharePolicy) -> int:
    """The index in ``line`` (non-empty, in :func:`line_order`) of who is served next."""
    head = line[0]
    if head.kind == WaiterKind.LIVE or not live_share_owed(recent, policy):
        return 0
    for index, waiter in enumerate(line):
        if waiter.priority != head.priority:
            break
        if waiter.kind == WaiterKind.LIVE:
            return index
    return 0


def next_served(
    waiting: Iterable[Waiter], recent: Sequence[WaiterKind] = (), policy: SharePolicy = STRICT
) -> Waiter | None:
    """Who an operator who frees up serves next; None when nobody waits."""
    line = line_order(waiting)
    return line[_pick(line, recent, policy)] if line else None


def serve_order(
    waiting: Iterable[Waiter],
    recent: Sequence[WaiterKind] = (),
    policy: SharePolicy = STRICT,
    *,
    limit: int | None = None,
) -> list[Waiter]:
    """The line in the order it will be served if nobody joins or leaves (the share applied
    serve by serve); only the first ``limit`` when given (the line is sorted once, so a few
    serves out of thousands of pending callbacks stay cheap)."""
    line = line_order(waiting)
    history = list(recent)
    order: list[Waiter] = []
    while line and (limit is None or len(order) < limit):
        chosen = line.pop(_pick(line, history, policy))
        history.append(chosen.kind)
        order.append(chosen)
    return order


def callbacks_to_start(
    waiting: Iterable[Waiter],
    *,
    free_operators: int,
    callbacks_in_flight: int,
    recent: Sequence[WaiterKind] = (),
    policy: SharePolicy = STRICT,
) -> list[Waiter]:
    """The pending callbacks that may be started now, in order.

    ``free_operators``: operators of the queue able to take a call now (logged in, not
    paused, not on a call); ``callbacks_in_flight``: callbacks started and not yet settled,
    each holding one of them.  The remaining free operators are dealt out in serve order: a
    live caller at its turn takes one (the engine rings it), a callback at its turn is started.
    So a callback starts only when nobody who is served before it is left without an operator,
    and never more than one callback per free operator.
    """
    slots = max(0, free_operators - callbacks_in_flight)
    dealt = serve_order(waiting, recent, policy, limit=slots)
    return [w for w in dealt if w.kind == WaiterKind.CALLBACK]
