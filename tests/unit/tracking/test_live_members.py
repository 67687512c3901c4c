"""The live state's operator grid (state, pause reason, since, last call's end) and its
change signal, which the web console's push waits on instead of polling."""

from __future__ import annotations

from clinicall.controller.facts import EngineLink, MemberSeen, MemberState
from clinicall.controller.tracking.live import LiveState, MemberNow

from .scenarios import Ami, at


def seen(t: int, state: MemberState, *, paused: bool = False, reason: str = "") -> MemberSeen:
    return MemberSeen(key=f"m{t}", at=at(t), queue="cardiology", member="PJSIP/op1",
                      member_name="Olena", state=state, paused=paused, pause_reason=reason)


def test_the_grid_keeps_since_across_repeats_and_notes_the_end_of_a_call() -> None:
    live = LiveState()
    live.apply(seen(0, MemberState.IDLE))
    live.apply(seen(5, MemberState.IDLE))  # a repeat of the same state: since stays
    assert live.members() == [MemberNow("cardiology", "PJSIP/op1", "Olena", MemberState.IDLE,
                                        False, "", at(0), None)]
    live.apply(seen(10, MemberState.IN_CALL))
    live.apply(seen(70, MemberState.IDLE))
    (after_call,) = live.members()
    assert (after_call.state, after_call.since, after_call.call_ended_at) == (
        MemberState.IDLE, at(70), at(70))
    live.apply(seen(80, MemberState.IDLE, paused=True, reason="lunch"))
    (paused,) = live.members()
    assert (paused.paused, paused.pause_reason, paused.since) == (True, "lunch", at(80))
    assert paused.call_ended_at == at(70)


def test_watchers_are_told_of_changes_and_not_of_other_facts() -> None:
    live = LiveState()
    told: list[int] = []
    live.watch(lambda: told.append(len(live.queues())))
    for fact in Ami("1.1").join(10, "cardiology").facts():
        live.apply(fact)
    assert told == [1]  # the join; the call's other facts change nothing here
    live.apply(seen(11, MemberState.RINGING))
    live.apply(EngineLink(key="down", at=at(12), up=False))
    assert len(told) == 3
