"""The estimated wait a patient hears, as a range, and how wrong past estimates were.

The estimate counts everyone ahead in the exact-place order (live callers and pending
callbacks, :func:`clinicall.routing.callback_order.ahead_of`) and the operators logged in:
with ``n`` operators each finishing a call every ``h`` seconds on average, one leaves the
line every ``h / n`` seconds.  A caller with ``k`` people ahead and ``f`` operators free
waits nothing when ``k < f``; else ``m = k - f`` people must leave the line before the
caller's own turn comes, plus one call ending for them.

Abandonment: a waiting live caller hangs up at a rate ``theta`` (per second of waiting: the
queue's recent abandons over the seconds its callers waited, the maximum-likelihood rate of
exponential patience).  While ``i`` people are still ahead, the line shortens at
``n / h + theta * i_live`` (calls ending, plus live callers ahead hanging up), so the wait
is the queue-length estimator with abandonment of Whitt and Ibrahim (``QL_m``):
``sum(1 / (n / h + theta * i_live) for i = m .. 0)``, where ``i_live`` is the live share of
the ``i`` ahead.  With ``theta = 0`` it is ``(m + 1) * h / n``.  Callbacks ahead are counted
whole: they do not hang up, and an unanswered one still holds its operator while it rings.

A patient hears a range ("less than 5 minutes"), never a number of seconds: the estimate is
no better than that.  :func:`wait_range` returns the neutral range; the prompt is the IVR's.
Each estimate is stored beside the wait that followed, and :func:`estimate_errors` gives the
median and p90 absolute error the reports print (docs/callbacks.md, "Estimated wait").
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The upper bounds of the announced ranges, in minutes: <5, 5-10, 10-20, 20-30, 30 and more.
RANGE_BOUNDS_MIN: tuple[int, ...] = (5, 10, 20, 30)


def estimate_wait_s(
    *,
    live_ahead: int,
    callbacks_ahead: int,
    logged_in: int,
    free: int,
    recent_handle_s: Sequence[float],
    default_handle_s: float,
    abandon_per_s: float = 0.0,
) -> float | None:
    """The expected wait in seconds; None when no operator is logged in (nobody will serve).

    ``recent_handle_s``: handle times (talk and wrap-up) of the queue's recent calls, their
    mean is ``h`` (``default_handle_s`` before any); ``abandon_per_s``: ``theta``, how often
    one waiting live caller hangs up, per second (:func:`abandon_rate_per_s`; 0: nobody does).
    """
    if min(live_ahead, callbacks_ahead, logged_in, free) < 0:
        raise ValueError("counts of callers and operators cannot be negative")
    if not 0 <= abandon_per_s < math.inf:
        raise ValueError(f"abandon_per_s must be a rate >= 0, got {abandon_per_s}")
    if logged_in == 0:
        return None
    handle_s = statistics.fmean(recent_handle_s) if recent_handle_s else default_handle_s
    ahead = live_ahead + callbacks_ahead
    available = min(free, logged_in)
    if ahead < available:
        return 0.0
    serving = logged_in / handle_s
    live_share = live_ahead / ahead if ahead else 0.0
    return sum(1 / (serving + abandon_per_s * i * live_share)
               for i in range(ahead - available + 1))  # fmt: skip


def abandon_rate_per_s(abandoned: int, waited_s: float) -> float:
    """``theta`` from a queue's recent callers: those who hung up while waiting over the
    seconds all of them waited (answered or not), the maximum-likelihood rate of exponential
    patience.  0 before anyone waited."""
    if abandoned < 0 or waited_s < 0:
        raise ValueError("counts and waits cannot be negative")
    return abandoned / waited_s if waited_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class WaitRange:
    """An announced range in whole minutes: [low_min, high_min); ``high_min`` None: "more than
    ``low_min`` minutes".  The IVR words it in the patient's language."""

    low_min: int
    high_min: int | None


def wait_range(wait_s: float, bounds_min: Sequence[int] = RANGE_BOUNDS_MIN) -> WaitRange:
    """The range ``wait_s`` falls in (``bounds_min``: ascending upper bounds in minutes)."""
    if wait_s < 0:
        raise ValueError(f"a wait cannot be negative, got {wait_s}")
    low = 0
    for bound in bounds_min:
        if wait_s < bound * 60:
            return WaitRange(low, bound)
        low = bound
    return WaitRange(low, None)


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Absolute error of estimates against the waits that followed, in seconds."""

    count: int
    median_s: float | None
    p90_s: float | None


def estimate_errors(pairs: Iterable[tuple[float, float]]) -> ErrorStats:
    """Median and 90th percentile of ``|estimate - actual|`` over ``(estimate_s, actual_s)``.

    The median averages the two middle values of an even count; the p90 is the nearest-rank
    value (the smallest error at least 90 % of the errors do not exceed), so it is always an
    error that happened.  None for both when there are no pairs.
    """
    errors = sorted(abs(estimate - actual) for estimate, actual in pairs)
    if not errors:
        return ErrorStats(0, None, None)
    rank = math.ceil(0.9 * len(errors))
    return ErrorStats(len(errors), statistics.median(errors), errors[rank - 1])
