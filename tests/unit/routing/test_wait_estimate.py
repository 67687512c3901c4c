"""The estimated wait: the work ahead shared by the operators, announced as a range."""

from __future__ import annotations

import pytest

from clinicall.routing.wait_estimate import (
    ErrorStats,
    WaitRange,
    abandon_rate_per_s,
    estimate_errors,
    estimate_wait_s,
    wait_range,
)


def estimate(live: int = 0, callbacks: int = 0, logged_in: int = 2, free: int = 0,
             handle: tuple[float, ...] = (120.0, 240.0), abandon: float = 0.0) -> float | None:
    return estimate_wait_s(live_ahead=live, callbacks_ahead=callbacks, logged_in=logged_in,
                           free=free, recent_handle_s=handle, abandon_per_s=abandon,
                           default_handle_s=300.0)  # fmt: skip


def test_a_free_operator_for_everyone_ahead_means_no_wait() -> None:
    assert estimate(live=1, free=2) == 0.0
    assert estimate(free=1) == 0.0


def test_the_work_ahead_is_shared_by_the_operators_logged_in() -> None:
    # mean handle 180 s, two operators: one leaves the line every 90 s
    assert estimate() == 90.0  # nobody ahead, nobody free: the first to finish
    assert estimate(live=3) == 360.0
    assert estimate(live=3, free=1) == 270.0
    assert estimate(live=3, logged_in=3) == 240.0


def test_callbacks_ahead_count_like_live_callers() -> None:
    assert estimate(live=1, callbacks=2) == estimate(live=3)


def test_abandonment_shortens_the_wait_by_the_live_callers_ahead_who_hang_up() -> None:
    # two operators, h = 180 s: calls end at 1/90 per second; each live caller ahead hangs
    # up at 1/90 per second too.  Three ahead: 1/(2/90) + 1/(3/90) + 1/(4/90) + 1/(1/90)
    assert estimate(live=3, abandon=1 / 90) == pytest.approx(90 / 4 + 90 / 3 + 90 / 2 + 90)
    assert estimate(live=3, abandon=1 / 90) < estimate(live=3)  # type: ignore[operator]


def test_abandonment_spares_callbacks_and_a_caller_with_nobody_ahead() -> None:
    assert estimate(callbacks=4, abandon=0.01) == estimate(callbacks=4)
    assert estimate(abandon=0.01) == estimate() == 90.0
    # one live and one callback ahead: half of those still ahead may hang up
    assert estimate(live=1, callbacks=1, abandon=1 / 90) == pytest.approx(
        90 / 2 + 90 / 1.5 + 90)


def test_the_abandonment_rate_is_abandons_per_second_waited() -> None:
    assert abandon_rate_per_s(3, 600.0) == 0.005
    assert abandon_rate_per_s(0, 600.0) == 0.0
    assert abandon_rate_per_s(0, 0.0) == 0.0  # nobody waited yet
    with pytest.raises(ValueError, match="negative"):
        abandon_rate_per_s(-1, 10.0)


def test_without_handle_history_the_default_is_used() -> None:
    assert estimate(live=1, handle=()) == 2 * 300.0 / 2


def test_nobody_logged_in_has_no_estimate() -> None:
    assert estimate(live=3, logged_in=0) is None


def test_free_operators_never_exceed_those_logged_in() -> None:
    assert estimate(live=2, logged_in=1, free=5) == 2 * 180.0


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"live": -1}, "cannot be negative"), ({"free": -1}, "cannot be negative"),
    ({"abandon": -0.1}, "abandon_per_s must be a rate"),
    ({"abandon": float("nan")}, "abandon_per_s must be a rate"),
])  # fmt: skip
def test_impossible_inputs_are_refused(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        estimate(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("seconds", "expected"), [
    (0, WaitRange(0, 5)), (299.9, WaitRange(0, 5)), (300, WaitRange(5, 10)),
    (599, WaitRange(5, 10)), (600, WaitRange(10, 20)), (1199, WaitRange(10, 20)),
    (1200, WaitRange(20, 30)), (1800, WaitRange(30, None)), (7200, WaitRange(30, None)),
])  # fmt: skip
def test_the_announced_range(seconds: float, expected: WaitRange) -> None:
    assert wait_range(seconds) == expected


def test_custom_bounds_and_a_negative_wait() -> None:
    assert wait_range(100, (1, 3)) == WaitRange(1, 3)
    assert wait_range(200, (1, 3)) == WaitRange(3, None)
    with pytest.raises(ValueError, match="negative"):
        wait_range(-1)


def test_error_statistics_median_and_nearest_rank_p90() -> None:
    # errors 10, 20, ..., 100 seconds in some order
    pairs = [(60.0, 60.0 + e) if e % 20 else (60.0 + e, 60.0) for e in range(10, 101, 10)]
    assert estimate_errors(pairs) == ErrorStats(10, 55.0, 90.0)
    assert estimate_errors([(30.0, 0.0)]) == ErrorStats(1, 30.0, 30.0)
    assert estimate_errors([(0.0, 10.0), (0.0, 20.0), (0.0, 400.0)]) == ErrorStats(3, 20.0, 400.0)


def test_no_pairs_no_statistics() -> None:
    assert estimate_errors([]) == ErrorStats(0, None, None)
