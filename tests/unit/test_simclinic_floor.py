"""The fake engine's queues on hand-worked days: who is answered when, who leaves and why, and
the facts the account gets for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from clinicall.calltypes import QueueRequest
from clinicall.controller.facts import (
    CallFact,
    ChannelClosed,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    MemberState,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
)
from clinicall.settings.loader import load_config
from clinicall.simclinic.floor import Floor, FloorAttempt, Staffing

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
CONFIG = load_config(EXAMPLE)  # wrap-up 5 s (the default) on every queue
START = datetime(2026, 11, 24, tzinfo=UTC)
HOUR_MS = 3_600_000
S = 1000


def floor_of(staffing: Staffing) -> Floor:
    return Floor(CONFIG, START, [h * HOUR_MS for h in range(25)], staffing)


def request(queue: str, *, priority: int = 0, max_wait_s: int = 90,
            overflow: str | None = "universal") -> QueueRequest:  # fmt: skip
    return QueueRequest(queue=queue, priority=priority, max_wait_s=max_wait_s,
                        overflow_queue=overflow, language="uk", path="", route=queue)  # fmt: skip


def stays(floor: Floor) -> list[tuple[str, str, int, str | None, int | None]]:
    return [(a.call_id, a.queue, a.joined_ms, a.outcome, a.wait_ms) for a in floor.attempts]


def staff(**counts: int) -> Staffing:
    return lambda queue, hour: counts.get(queue, 0) if hour < 24 else 0


def test_a_caller_times_out_to_the_overflow_queue_and_wrap_up_keeps_the_operator_busy() -> None:
    floor = floor_of(staff(therapy=1, universal=1))
    floor.enqueue(0, "a", "+380671", request("therapy"), patience_s=1000, handle_s=120)
    floor.enqueue(10 * S, "b", "+380672", request("therapy"), patience_s=1000, handle_s=50)
    floor.enqueue(200 * S, "c", "+380673", request("therapy"), patience_s=1000, handle_s=10)
    floor.run()
    assert stays(floor) == [
        ("a", "therapy", 0, "answered", 0),
        ("b", "therapy", 10 * S, "timeout", 90 * S),  # its max wait, before a's call ended
        ("b", "universal", 100 * S, "answered", 0),
        ("c", "therapy", 200 * S, "answered", 0),
    ]
    facts = [f for _, _, f in floor.facts if isinstance(f, CallFact) and f.call_id == "b"]
    assert [type(f) for f in facts] == [QueueJoined, QueueLeft, QueueJoined, QueueAnswered,
                                        QueueCompleted, ChannelClosed]  # fmt: skip
    left = facts[1]
    assert isinstance(left, QueueLeft)
    assert (left.reason, left.wait_ms, left.at) == (
        LeaveReason.TIMEOUT, 90 * S, datetime(2026, 11, 24, 0, 1, 40, tzinfo=UTC))


def test_wrap_up_delays_the_next_answer() -> None:
    floor = floor_of(staff(therapy=1))
    floor.enqueue(0, "a", "+380671", request("therapy"), patience_s=1000, handle_s=30)
    floor.enqueue(1 * S, "b", "+380672", request("therapy"), patience_s=1000, handle_s=30)
    floor.run()
    assert stays(floor)[1] == ("b", "therapy", 1 * S, "answered", 34 * S)  # 30 s + 5 s - 1 s


def test_the_higher_priority_is_answered_first_then_the_longest_wait() -> None:
    floor = floor_of(staff(universal=1))
    floor.enqueue(0, "busy", "+380670", request("universal", overflow=None, max_wait_s=600),
                  patience_s=1000, handle_s=60)  # fmt: skip
    for at, name, priority in ((1, "low1", 0), (2, "high", 2), (3, "low2", 0)):
        floor.enqueue(at * S, name, "+380671",
                      request("universal", priority=priority, overflow=None, max_wait_s=600),
                      patience_s=1000, handle_s=60)  # fmt: skip
    floor.run()
    answered = sorted((a.wait_ms + a.joined_ms, a.call_id) for a in floor.attempts
                      if a.wait_ms is not None)  # fmt: skip
    assert [name for _, name in answered] == ["busy", "high", "low1", "low2"]


def test_a_queue_without_operators_is_not_joined_the_caller_goes_on_to_its_overflow() -> None:
    floor = floor_of(staff(universal=1))
    floor.enqueue(0, "a", "+380671", request("ultrasound"), patience_s=1000, handle_s=60)
    floor.run()
    assert stays(floor) == [("a", "universal", 0, "answered", 0)]


def test_patience_runs_from_the_first_join_across_queues() -> None:
    floor = floor_of(staff(therapy=1, universal=1))
    floor.enqueue(0, "busy1", "+380670", request("therapy"), patience_s=1000, handle_s=500)
    floor.enqueue(0, "busy2", "+380670", request("universal"), patience_s=1000, handle_s=500)
    floor.enqueue(1 * S, "a", "+380671", request("therapy"), patience_s=120, handle_s=60)
    floor.run()
    mine = [(q, outcome, wait) for call, q, _, outcome, wait in stays(floor) if call == "a"]
    assert mine == [("therapy", "timeout", 90 * S), ("universal", "abandoned", 30 * S)]
    closed = [f for _, _, f in floor.facts if isinstance(f, ChannelClosed) and f.call_id == "a"]
    assert [c.at for c in closed] == [datetime(2026, 11, 24, 0, 2, 1, tzinfo=UTC)]


def test_callers_waiting_when_the_last_operator_leaves_go_on_and_the_operator_finishes() -> None:
    def staffing(queue: str, hour: int) -> int:
        return {"gynecology": 1 if hour == 0 else 0, "universal": 1}.get(queue, 0)

    floor = floor_of(staffing)
    floor.enqueue(HOUR_MS - 30 * S, "talking", "+380670", request("gynecology"),
                  patience_s=1000, handle_s=120)  # fmt: skip
    floor.enqueue(HOUR_MS - 10 * S, "waiting", "+380671", request("gynecology"),
                  patience_s=1000, handle_s=60)  # fmt: skip
    floor.run()
    assert stays(floor)[1:] == [
        ("waiting", "gynecology", HOUR_MS - 10 * S, "empty", 10 * S),
        ("waiting", "universal", HOUR_MS, "answered", 0),
    ]
    members = [(type(f).__name__, f.member, at) for at, _, f in floor.facts
               if isinstance(f, MemberJoined | MemberLeft) and f.queue == "gynecology"]
    # logged out once the call that outlasted the hour ended (90 s into hour 1) + wrap-up
    assert members == [("MemberJoined", "gynecology-op1", 0),
                       ("MemberLeft", "gynecology-op1", HOUR_MS + 95 * S)]  # fmt: skip
    assert all(f.durable for _, _, f in floor.facts if isinstance(f, MemberJoined | MemberLeft))


def test_facts_come_out_in_time_order_with_the_simulations_own_figures() -> None:
    floor = floor_of(staff(therapy=1))
    floor.enqueue(5 * S, "a", "+380671", request("therapy"), patience_s=1000, handle_s=42.5)
    floor.run()
    times = [at for at, _, _ in floor.facts]
    assert times == sorted(times)
    done = next(f for _, _, f in floor.facts if isinstance(f, QueueCompleted))
    assert (done.talk_ms, done.wait_ms, done.member) == (42_500, 0, "therapy-op1")
    assert floor.attempts == [FloorAttempt("a", "therapy", 5 * S, 0, "answered", 0, 42_500,
                                           "therapy-op1")]  # fmt: skip


# ---- what the callback scheduler sees and does (the control port, simclinic.sim_control) ----


def test_the_status_shows_the_operators_and_the_waiting_callers_in_answer_order() -> None:
    floor = floor_of(staff(universal=1))
    floor.enqueue(0, "talking", "+380670", request("universal", overflow=None, max_wait_s=600),
                  patience_s=1000, handle_s=60)  # fmt: skip
    floor.enqueue(10 * S, "low", "+380671", request("universal", overflow=None, max_wait_s=600),
                  patience_s=1000, handle_s=60)  # fmt: skip
    floor.enqueue(20 * S, "high", "+380672",
                  request("universal", priority=2, overflow=None, max_wait_s=600),
                  patience_s=1000, handle_s=60)  # fmt: skip
    floor.run_until(30 * S)
    [status] = [s for s in floor.status(30 * S) if s.queue == "universal"]
    [member] = status.members
    assert (member.member, member.state, member.paused, member.calls_taken) == (
        "universal-op1", MemberState.IN_CALL, False, 1)
    assert [(e.channel_id, e.wait_s, e.priority) for e in status.entries] == [
        ("high", 10.0, 2), ("low", 20.0, 0)]
    floor.run_until(62 * S)  # the talk ended at 60 s: wrap-up (5 s) shows idle, as on Asterisk
    [status] = [s for s in floor.status(62 * S) if s.queue == "universal"]
    assert status.members[0].state == MemberState.IDLE
    assert status.waiting == 2  # ... but the queue rings them only once it is over
    assert (60 * S, "universal") in floor.freed


def test_a_paused_operator_is_rung_by_no_queue_and_takes_the_next_caller_once_resumed() -> None:
    floor = floor_of(staff(therapy=1))
    floor.run_until(0)
    assert floor.pause(0, "therapy-op1", paused=True, reason="clinicall-callback")
    floor.enqueue(1 * S, "a", "+380671", request("therapy", overflow=None, max_wait_s=600),
                  patience_s=1000, handle_s=30)  # fmt: skip
    floor.run_until(50 * S)
    [status] = [s for s in floor.status(50 * S) if s.queue == "therapy"]
    assert (status.members[0].paused, status.members[0].pause_reason) == (
        True, "clinicall-callback")
    assert status.waiting == 1
    assert floor.pause(50 * S, "therapy-op1", paused=False)
    floor.run()
    assert stays(floor) == [("a", "therapy", 1 * S, "answered", 49 * S)]
    assert not floor.pause(0, "nobody-op1", paused=True)


def test_a_call_placed_to_an_operator_keeps_them_from_the_queue_until_its_wrap_up_ended() -> None:
    floor = floor_of(staff(therapy=1))
    floor.run_until(0)
    assert floor.engage(0, "therapy-op1")
    assert not floor.engage(0, "therapy-op1")  # in a call: not twice
    floor.end_call(100 * S, "therapy-op1", wrapup=True)
    floor.enqueue(10 * S, "a", "+380671", request("therapy", overflow=None, max_wait_s=600),
                  patience_s=1000, handle_s=30)  # fmt: skip
    seen: list[int] = []
    floor.call_at(50 * S, seen.append)
    floor.run()
    assert seen == [50 * S]
    assert stays(floor) == [("a", "therapy", 10 * S, "answered", 95 * S)]  # 100 s + 5 s wrap-up


def test_an_operator_in_wrap_up_may_be_given_a_placed_call_and_the_old_call_frees_nobody() -> None:
    floor = floor_of(staff(therapy=1))
    floor.enqueue(0, "a", "+380671", request("therapy"), patience_s=1000, handle_s=30)
    floor.run_until(31 * S)  # talk over at 30 s, wrap-up until 35 s
    assert floor.engage(31 * S, "therapy-op1")
    floor.end_call(200 * S, "therapy-op1", wrapup=False)
    floor.enqueue(32 * S, "b", "+380672", request("therapy", overflow=None, max_wait_s=600),
                  patience_s=1000, handle_s=30)  # fmt: skip
    floor.run()
    assert stays(floor)[1] == ("b", "therapy", 32 * S, "answered", 168 * S)  # not at 35 s


def test_a_caller_who_agreed_to_the_survey_is_handed_back_not_hung_up() -> None:
    floor = floor_of(staff(therapy=1))
    asked = replace(request("therapy"), survey=True)
    floor.enqueue(0, "a", "+380671", asked, patience_s=1000, handle_s=30)
    floor.enqueue(0, "b", "+380672", request("therapy"), patience_s=1000, handle_s=30)
    floor.run()
    [back] = floor.handed_back
    assert (back.at_ms, back.call_id, back.queue, back.member) == (30 * S, "a", "therapy",
                                                                    "therapy-op1")
    closed = {f.call_id for _, _, f in floor.facts if isinstance(f, ChannelClosed)}
    assert closed == {"b"}  # a's channel stays open for the survey
