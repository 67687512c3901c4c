"""The call behind a recording, step by step, for the player's side panel: the IVR (path,
route), each queue it waited in, each operator rung (how long, answered or not), the talk,
a transfer (a queue joined after an operator had answered), the end.  Built only from the
account's rows (``calls``, ``queue_attempts``, ``ring_attempts``; docs/kpi.md defines them),
so it says what the reports count.  Pure: the rows in, the steps out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from clinicall.db.models import Call, QueueOutcome

Value = str | float | bool | None


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    kind: str  # start, ivr, queue, ring, talk, left, transfer, end
    facts: dict[str, Value] = field(default_factory=dict)


def call_timeline(call: Call) -> list[Step]:
    """Every step, in time order (steps at the same moment keep the order above)."""
    steps = [Step(call.started_at, "start", {"direction": call.direction.value})]
    if call.ivr_path or call.route:
        steps.append(Step(call.started_at, "ivr", {
            "path": call.ivr_path, "route": call.route, "language": call.language,
            "outcome": call.ivr_outcome.value if call.ivr_outcome else None}))
    answered_before = False
    for attempt in sorted(call.queue_attempts, key=lambda a: a.joined_at):
        kind = "transfer" if answered_before else "queue"
        steps.append(Step(attempt.joined_at, kind, {"queue": attempt.queue,
                                                     "position": attempt.position}))
        for ring in sorted(attempt.rings, key=lambda r: r.rang_at):
            steps.append(Step(ring.rang_at, "ring", {
                "operator": ring.member, "ring_s": ring.ring_ms / 1000 if ring.ring_ms else None,
                "answered": ring.answered}))
        if attempt.connected_at is not None:
            steps.append(Step(attempt.connected_at, "talk", {
                "queue": attempt.queue, "operator": attempt.agent, "wait_s": attempt.wait_s,
                "talk_s": attempt.talk_s}))
            answered_before = True
        if attempt.left_at is not None and attempt.outcome is not QueueOutcome.ANSWERED:
            steps.append(Step(attempt.left_at, "left", {
                "queue": attempt.queue,
                "outcome": attempt.outcome.value if attempt.outcome else None,
                "wait_s": attempt.wait_s}))
    if call.ended_at is not None:
        steps.append(Step(call.ended_at, "end", {
            "hangup": call.hangup_side.value if call.hangup_side else None}))
    return [step for _, step in sorted(enumerate(steps), key=lambda n: (n[1].at, n[0]))]
