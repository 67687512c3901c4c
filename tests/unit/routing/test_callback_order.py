"""Exact place: callbacks are served in their original arrival order among live callers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clinicall.routing.callback_order import (
    SharePolicy,
    Waiter,
    WaiterKind,
    ahead_of,
    callbacks_to_start,
    is_promoted,
    line_order,
    live_share_owed,
    next_served,
    position,
    serve_order,
)

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
LIVE, CALLBACK = WaiterKind.LIVE, WaiterKind.CALLBACK


def live(key: str, minute: int, priority: int = 0) -> Waiter:
    return Waiter(LIVE, key, T0 + timedelta(minutes=minute), priority)


def callback(key: str, minute: int, priority: int = 0, *, promoted: bool = False) -> Waiter:
    return Waiter(CALLBACK, key, T0 + timedelta(minutes=minute), priority, promoted)


def keys(waiters: list[Waiter]) -> list[str]:
    return [w.key for w in waiters]


def test_the_issue_scenario_a_callback_between_the_earlier_and_the_later_callers() -> None:
    # X waits; A joins, takes the callback, hangs up; B and C join after.
    x, a, b, c = live("x", 0), callback("a", 1), live("b", 2), live("c", 3)
    line = [c, b, a, x]
    assert keys(serve_order(line)) == ["x", "a", "b", "c"]
    assert next_served(line) == x
    assert next_served([a, b, c]) == a
    assert position(a, line) == 2
    assert position(b, line) == 3  # the callback ahead counts in the place B hears


def test_higher_priority_first_then_arrival_as_asterisk_queues_do() -> None:
    line = [live("early_low", 0), callback("late_high", 5, priority=2), live("mid_high", 3, 2)]
    assert keys(line_order(line)) == ["mid_high", "late_high", "early_low"]


def test_a_tie_in_arrival_puts_the_live_caller_first_then_the_key() -> None:
    line = [callback("b", 0), callback("a", 0), live("z", 0)]
    assert keys(line_order(line)) == ["z", "a", "b"]


def test_ahead_of_counts_live_callers_and_callbacks_separately() -> None:
    line = [live("x", 0), callback("a", 1), callback("d", 2), live("b", 3), live("c", 4)]
    assert ahead_of(line[3], line) == (1, 2)
    assert ahead_of(line[0], line) == (0, 0)


def test_position_of_someone_not_in_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="live 'ghost' is not in this line"):
        position(live("ghost", 0), [live("x", 1)])
    with pytest.raises(ValueError, match="callback 'ghost' is not in this line"):
        ahead_of(callback("ghost", 0), [live("x", 1)])


def test_nobody_waiting_serves_nobody_and_starts_nothing() -> None:
    assert next_served([]) is None
    assert callbacks_to_start([], free_operators=3, callbacks_in_flight=0) == []


def test_a_callback_waits_while_an_earlier_live_caller_has_no_operator() -> None:
    line = [live("x", 0), callback("a", 1)]
    assert callbacks_to_start(line, free_operators=1, callbacks_in_flight=0) == []
    assert keys(callbacks_to_start(line, free_operators=2, callbacks_in_flight=0)) == ["a"]


def test_never_more_callbacks_in_flight_than_free_operators() -> None:
    line = [callback(f"cb{i}", i) for i in range(5)]
    assert keys(callbacks_to_start(line, free_operators=2, callbacks_in_flight=0)) == ["cb0", "cb1"]
    assert keys(callbacks_to_start(line, free_operators=2, callbacks_in_flight=1)) == ["cb0"]
    assert callbacks_to_start(line, free_operators=2, callbacks_in_flight=2) == []
    assert callbacks_to_start(line, free_operators=1, callbacks_in_flight=3) == []


def test_a_later_live_caller_does_not_hold_back_an_earlier_callback() -> None:
    line = [callback("a", 0), live("b", 1)]
    assert keys(callbacks_to_start(line, free_operators=1, callbacks_in_flight=0)) == ["a"]


def test_strict_order_owes_live_callers_nothing() -> None:
    assert not live_share_owed([CALLBACK] * 10, SharePolicy())
    line = [callback("a", 0), callback("b", 1), live("c", 2)]
    assert keys(serve_order(line, [CALLBACK] * 5)) == ["a", "b", "c"]


def test_a_live_share_lets_a_waiting_live_caller_pass_callbacks() -> None:
    half = SharePolicy(live_share=0.5, window=4)
    line = [callback("a", 0), callback("b", 1), callback("c", 2), live("x", 3), live("y", 4)]
    # no history: the live caller is owed the first serve; after x, a the share is met (1/2),
    # after x, a, b it is not (1/3), so y goes before c
    assert keys(serve_order(line, (), half)) == ["x", "a", "b", "y", "c"]
    # enough live serves lately: the callback at the head keeps its place
    assert next_served(line, [LIVE, LIVE, CALLBACK, LIVE], half) == line[0]
    assert next_served(line, [LIVE, CALLBACK, CALLBACK, CALLBACK], half) == line[3]


def test_the_share_is_counted_over_the_window_only() -> None:
    policy = SharePolicy(live_share=0.5, window=2)
    assert live_share_owed([LIVE, LIVE, LIVE, CALLBACK, CALLBACK], policy)
    assert not live_share_owed([CALLBACK, CALLBACK, LIVE, CALLBACK, LIVE], policy)


def test_the_share_never_lets_a_lower_priority_live_caller_pass() -> None:
    owed = SharePolicy(live_share=1.0, window=3)
    line = [callback("urgent", 5, priority=3), live("routine", 0, priority=0)]
    assert next_served(line, [CALLBACK] * 3, owed) == line[0]


def test_the_share_changes_which_callbacks_start() -> None:
    line = [callback("a", 0), live("x", 1)]
    owed = SharePolicy(live_share=0.5, window=2)
    assert callbacks_to_start(line, free_operators=1, callbacks_in_flight=0,
                              recent=[CALLBACK, CALLBACK], policy=owed) == []
    assert keys(callbacks_to_start(line, free_operators=1, callbacks_in_flight=0,
                                   recent=[LIVE, LIVE], policy=owed)) == ["a"]


def test_a_full_share_lets_a_callback_through_only_after_a_window_of_live_serves() -> None:
    full = SharePolicy(live_share=1.0, window=3)
    line = [callback("a", 0), live("x", 1)]
    assert next_served(line, [LIVE, LIVE, CALLBACK], full) == line[1]
    assert next_served(line, [CALLBACK, LIVE, LIVE, LIVE], full) == line[0]


def test_a_limit_gives_the_first_serves_only() -> None:
    line = [callback(f"cb{i}", i) for i in range(5)] + [live("x", 9)]
    owed = SharePolicy(live_share=0.5, window=2)
    assert keys(serve_order(line, (), owed, limit=2)) == ["x", "cb0"]
    assert serve_order(line, limit=0) == []
    assert serve_order(line, (), owed, limit=None) == serve_order(line, (), owed)


def test_a_promoted_callback_goes_ahead_of_earlier_live_callers_of_its_priority() -> None:
    # the line is longer than the target: a's call is late, b's is not yet
    x, y = live("x", 0), live("y", 1)
    a, b = callback("a", 2, promoted=True), callback("b", 3)
    z = live("z", 4)
    assert keys(line_order([z, b, y, a, x])) == ["a", "x", "y", "b", "z"]
    assert keys(callbacks_to_start([z, b, y, a, x], free_operators=1, callbacks_in_flight=0)) \
        == ["a"]


def test_promoted_callbacks_keep_their_arrival_order_and_never_pass_a_higher_priority() -> None:
    high = live("high", 5, priority=2)
    early, late = callback("early", 1, promoted=True), callback("late", 3, promoted=True)
    assert keys(line_order([late, high, early, live("x", 0)])) == ["high", "early", "late", "x"]


def test_a_callback_is_promoted_once_its_call_is_that_old_and_never_tried() -> None:
    after = timedelta(minutes=7)
    arrived = T0
    assert not is_promoted(arrived, False, T0 + timedelta(minutes=6, seconds=59), after)
    assert is_promoted(arrived, False, T0 + timedelta(minutes=7), after)
    assert not is_promoted(arrived, True, T0 + timedelta(hours=1), after)  # a retry keeps its place
    assert not is_promoted(arrived, False, T0 + timedelta(hours=1), None)  # the default: never
