"""The projector: a call's journal rows → its ``Call`` row and queue attempts, as plain values.

A pure function of the rows (whatever their order, whatever was journaled twice), so
re-projecting a call after every new fact, or replaying the whole journal, gives the same rows.
It reads engine-neutral facts only (``controller.facts``, decoded by ``codec``) and the IVR's
own account; which engine spoke is none of its business.

Sources, best first: the IVR's outcome, the dialplan's routing mark (``CallRouted``: written
right before queueing, also when the controller was down), the call data the engine reported,
the channels' own facts.  Queue attempts: the durable record's, completed by the live view's.

Missed call (docs/kpi.md, clinic level): an inbound call that reached no operator and was not
self-served; by cause: hung up in IVR, abandoned in queue, timeout, exit key, empty, after
hours, failed, engine.  A call the engine cut (``ChannelCut``: it stopped, restarted or
crashed) is the engine's doing, not the patient's: hang-up side "engine", its waiting queue
attempt "cut" (not abandoned), and, unanswered, missed by cause "engine".  An overflowed call
answered in the second queue is not missed.  A call still in progress is not (yet) missed: it
is decided when the call ends, or at once for an abandon.

A call clinicall placed itself (a callback attempt, a reminder: the call data ``purpose`` its
originate set) is outbound, to the number it dialled, with that purpose, and never missed: it
is not a patient calling the clinic, so the inbound KPIs leave it out (docs/kpi.md, "calls
clinicall places").  Answered, it returns the patient's missed call like any answered call to
the number (``clinicall.db.call_links``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from clinicall.controller import facts as f
from clinicall.controller.port import CALLBACK_ANSWERED
from clinicall.controller.tracking import attempts as att
from clinicall.controller.tracking.attempts import AttemptRecord
from clinicall.controller.tracking.codec import decode
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.phone import to_e164
from clinicall.controller.tracking.rows import IVR_KIND, JournalRow
from clinicall.db.models import Direction, HangupSide, IvrOutcome, MissCause, QueueOutcome

#: IVR outcome (ivr.outcome.Outcome) → stored IvrOutcome.  The IVR's own "fallback" (no valid
#: input, sent to the universal queue) is still a queue outcome; the store's FALLBACK means the
#: controller was unreachable (the dialplan's routing mark).
IVR_OUTCOMES = {
    "queue": IvrOutcome.QUEUE,
    "selfserved": IvrOutcome.SELF_SERVED,
    "afterhours": IvrOutcome.AFTER_HOURS,
    "hangup": IvrOutcome.HANGUP_IVR,
    "fallback": IvrOutcome.QUEUE,
}
MARK_OUTCOMES = {"queue": IvrOutcome.QUEUE, "fallback": IvrOutcome.FALLBACK}
#: IVR outcomes a cut does not change: the patient had heard what they called for.
NOT_CUT_SHORT = (IvrOutcome.SELF_SERVED, IvrOutcome.AFTER_HOURS)
ATTEMPT_MISS = {
    QueueOutcome.ABANDONED: MissCause.ABANDONED,
    QueueOutcome.TIMEOUT: MissCause.TIMEOUT,
    QueueOutcome.EXIT_KEY: MissCause.EXIT_KEY,
    QueueOutcome.EMPTY: MissCause.EMPTY,
}
IVR_MISS = {
    IvrOutcome.HANGUP_IVR: MissCause.HANGUP_IVR,
    IvrOutcome.AFTER_HOURS: MissCause.AFTER_HOURS,
    IvrOutcome.FAILED: MissCause.FAILED,
}


@dataclass(frozen=True, slots=True)
class RecordingRef:
    """Where the engine recorded a call: ``path`` relative to its recording spool."""

    path: str
    format: str


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_key: str
    direction: Direction
    caller: str | None
    dialled: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    language: str | None
    ivr_path: str | None
    route: str | None
    ivr_outcome: IvrOutcome | None
    hangup_side: HangupSide | None
    missed: bool
    miss_cause: MissCause | None
    attempts: tuple[AttemptRecord, ...]
    caller_name: str | None = None  # the caller id's name (migration 0012)
    #: The call's recording, only once an operator answered: engines record only while
    #: bridged, so an unanswered call's file holds no audio.
    recording: RecordingRef | None = None
    #: Why clinicall placed this (outbound) call: ``callback`` or ``reminder``; None for a
    #: call the patient placed (migration 0017).
    purpose: str | None = None


CALLER_NAME_CHARS = 80  # the column's size (migration 0012)


@dataclass(slots=True)
class _Facts:
    """A call's rows, decoded and sorted by kind."""

    ivr: Mapping[str, Any] = field(default_factory=dict)
    routed: f.CallRouted | None = None
    data: dict[str, str] = field(default_factory=dict)  # CallDataSet, the latest per name
    data_at: dict[tuple[str, str], datetime] = field(default_factory=dict)  # first set at
    channels: list[f.ChannelOpened] = field(default_factory=list)  # in order
    closed: list[f.ChannelClosed] = field(default_factory=list)
    cuts: list[f.ChannelCut] = field(default_factory=list)  # any channel of the call
    durable: list[tuple[f.QueueFact, int]] = field(default_factory=list)
    live: list[tuple[f.QueueFact, int]] = field(default_factory=list)
    recording: f.RecordingStarted | None = None
    times: list[datetime] = field(default_factory=list)  # of every engine fact

    @property
    def cut_at(self) -> datetime | None:
        """When the engine first cut the call (None: it did not)."""
        return min((c.at for c in self.cuts), default=None)

    def pick(self, ivr: str, routed: str, data: str = "") -> str | None:
        mark = getattr(self.routed, routed, None) if routed and self.routed else None
        for value in (self.ivr.get(ivr) if ivr else None, mark, self.data.get(data)):
            if value:
                return str(value)
        return None


def _order(row: JournalRow) -> tuple[datetime, int, str]:
    return (row.at, row.id, row.key)


def _sort(rows: Iterable[JournalRow]) -> _Facts:
    found = _Facts()
    ivr_rows: list[JournalRow] = []
    for row in sorted({row.key: row for row in rows}.values(), key=_order):  # once per key
        if row.kind == IVR_KIND:
            ivr_rows.append(row)
            continue
        fact = decode(row.kind, row.key, row.at, row.payload)
        if fact is None or isinstance(fact, f.ChannelOfCall):
            continue
        found.times.append(row.at)
        if isinstance(fact, f.QueueFact):
            (found.durable if fact.durable else found.live).append((fact, row.id))
        elif isinstance(fact, f.CallRouted):
            found.routed = found.routed or fact
        elif isinstance(fact, f.CallDataSet):
            found.data[fact.name] = fact.value
            found.data_at.setdefault((fact.name, fact.value), fact.at)
        elif isinstance(fact, f.ChannelOpened):
            found.channels.append(fact)
        elif isinstance(fact, f.ChannelClosed):
            found.closed.append(fact)
        elif isinstance(fact, f.ChannelCut):
            found.cuts.append(fact)
        elif isinstance(fact, f.RecordingStarted):
            found.recording = fact
    if ivr_rows:
        found.ivr = ivr_rows[0].payload
    return found


def project_call(
    call_key: str, rows: Iterable[JournalRow], config: TrackingConfig
) -> CallRecord | None:
    """The call ``call_key`` from all its journal rows; None if they hold nothing about a call,
    or only an IVR session: a call the engine never reported is not a patient's call (a local
    peer can open FastAGI sessions), and stays apart until the engine's facts arrive
    (docs/kpi.md, "unconfirmed IVR sessions")."""
    facts = _sort(rows)
    if not facts.times:
        return None
    priority = int(facts.ivr.get("priority") or 0)
    attempts = tuple(
        a if a.priority == priority else replace(a, priority=priority)
        for a in att.merge(att.build(facts.durable), att.build(facts.live))
    )
    if facts.cut_at is not None:
        attempts = _cut_attempts(attempts, facts.cut_at)
    call = _call(call_key, facts, attempts, config)
    purpose = facts.data.get("purpose")
    return _placed(call, purpose, facts, config) if purpose in f.PURPOSES else call


def _placed(call: CallRecord, purpose: str, facts: _Facts, config: TrackingConfig
            ) -> CallRecord:  # fmt: skip
    """A call clinicall placed: outbound, from the clinic's caller id to the number it
    dialled, answered when the callee answered (an operator connected in a queue the callee
    joined, the dialplan's ``callback_answered``, or the IVR flow ran), never missed."""
    answers = [a for a in (call.answered_at, facts.data_at.get(("outcome", CALLBACK_ANSWERED)))
               if a is not None]  # fmt: skip
    if facts.ivr.get("started_at"):
        answers.append(datetime.fromisoformat(str(facts.ivr["started_at"])))
    first = facts.channels[0] if facts.channels else None
    return replace(
        call, direction=Direction.OUTBOUND, purpose=purpose,
        caller=_e164(first.caller_number if first else None, config),
        dialled=_e164(facts.data.get("dialled"), config) or call.dialled,
        answered_at=min(answers, default=None), missed=False, miss_cause=None,
        ivr_outcome=call.ivr_outcome if facts.ivr else None,
    )


def _cut_attempts(
    attempts: tuple[AttemptRecord, ...], cut_at: datetime
) -> tuple[AttemptRecord, ...]:
    """The attempt waiting when the engine cut the call: "cut", not abandoned (an engine
    stopping hangs its callers up, and its durable record says ABANDON), ended at the cut if
    the record never ended it (the engine died)."""
    if not attempts:
        return attempts
    last = max(attempts, key=lambda a: a.joined_at)
    if last.outcome not in (None, QueueOutcome.ABANDONED) or last.joined_at > cut_at:
        return attempts
    ended = last.ended_at or last.left_at or cut_at
    wait_s = last.wait_s
    if wait_s is None:
        wait_s = max((cut_at - last.joined_at).total_seconds(), 0.0)
    cut = replace(last, outcome=QueueOutcome.CUT, left_at=last.left_at or cut_at,
                  ended_at=ended, wait_s=wait_s, hung_up_by=None)
    return tuple(cut if a is last else a for a in attempts)


def _call(
    call_key: str, facts: _Facts, attempts: tuple[AttemptRecord, ...], config: TrackingConfig
) -> CallRecord:
    first = next((c for c in facts.channels if c.channel_id == call_key), None)
    first = first or (facts.channels[0] if facts.channels else None)
    enter = next((fact for fact, _ in facts.durable if isinstance(fact, f.QueueJoined)), None)
    caller_raw = (
        facts.pick("caller", "caller")
        or (first.caller_number if first else None)
        or (enter.caller_number if enter else None)
    )
    dialled_raw = facts.pick("dialled", "dialled") or (first.dialled if first else None)
    outcome = _ivr_outcome(facts)
    cut = facts.cut_at is not None
    if cut and outcome == IvrOutcome.HANGUP_IVR:
        outcome = IvrOutcome.FAILED  # the engine hung up in the menu, not the patient
    ended_at = _ended_at(call_key, facts, outcome, attempts)
    if outcome is None and not attempts and ended_at is not None:
        outcome = IvrOutcome.FAILED  # ended before the IVR or a queue took it
    missed, cause = _missed(outcome, attempts, ended_at)
    if cut and not answered(attempts) and outcome not in NOT_CUT_SHORT:
        missed, cause = True, MissCause.ENGINE
    answered_at = min((a.connected_at for a in attempts if a.connected_at), default=None)
    return CallRecord(
        call_key=call_key,
        direction=Direction.INBOUND,
        caller=_e164(caller_raw, config),
        dialled=_e164(dialled_raw, config),
        started_at=_started_at(facts, first, attempts),
        answered_at=answered_at,
        ended_at=ended_at,
        language=facts.pick("language", "language", "language"),
        ivr_path=facts.pick("path", "path", "path"),
        route=facts.pick("route", "route", "route"),
        ivr_outcome=outcome,
        hangup_side=HangupSide.ENGINE if cut else _hangup_side(outcome, attempts),
        missed=missed,
        miss_cause=cause,
        attempts=attempts,
        caller_name=str(facts.ivr.get("caller_name") or (first.caller_name if first else ""))
        [:CALLER_NAME_CHARS] or None,
        recording=_recording(facts, answered_at),
    )


def _recording(facts: _Facts, answered_at: datetime | None) -> RecordingRef | None:
    started = facts.recording
    if answered_at is None or started is None or not started.path:
        return None
    return RecordingRef(started.path, started.format)


def _e164(raw: object, config: TrackingConfig) -> str | None:
    if not raw:
        return None
    number = to_e164(str(raw), country_code=config.country_code, trunk_prefix=config.trunk_prefix)
    return number[:32] if number else None


def _ivr_outcome(facts: _Facts) -> IvrOutcome | None:
    if facts.ivr.get("outcome") in IVR_OUTCOMES:
        return IVR_OUTCOMES[str(facts.ivr["outcome"])]
    mark = facts.pick("", "outcome", "outcome")
    return MARK_OUTCOMES.get(mark or "")


def _started_at(
    facts: _Facts, first: f.ChannelOpened | None, attempts: tuple[AttemptRecord, ...]
) -> datetime:
    candidates = [a.joined_at for a in attempts]
    if first is not None:
        candidates.append(first.at)
    if facts.ivr.get("started_at"):
        candidates.append(datetime.fromisoformat(str(facts.ivr["started_at"])))
    if facts.routed is not None:
        candidates.append(facts.routed.at)
    return min(candidates or facts.times)


def _ended_at(
    call_key: str,
    facts: _Facts,
    outcome: IvrOutcome | None,
    attempts: tuple[AttemptRecord, ...],
) -> datetime | None:
    """The caller's channel hung up; else the end of the last queue attempt; else the end of
    an IVR session that did not queue the call; else, if the engine cut it, the cut."""
    callers = {call_key, str(facts.ivr.get("channel_id") or "")} | {a.channel_id for a in attempts}
    hangups = [c.at for c in facts.closed if c.channel_id in callers]
    if hangups:
        return max(hangups)
    ended = _ended_without_hangup(facts, outcome, attempts)
    # the engine died with the call: at its last sign of life
    return facts.cut_at if ended is None else ended


def _ended_without_hangup(
    facts: _Facts, outcome: IvrOutcome | None, attempts: tuple[AttemptRecord, ...]
) -> datetime | None:
    if attempts:
        last = max(attempts, key=lambda a: a.joined_at)
        return last.ended_at if last.closed else None
    if outcome in IVR_MISS or outcome == IvrOutcome.SELF_SERVED:
        return (
            datetime.fromisoformat(str(facts.ivr["ended_at"]))
            if facts.ivr.get("ended_at")
            else None
        )
    return None


def answered(attempts: tuple[AttemptRecord, ...]) -> bool:
    return any(a.outcome == QueueOutcome.ANSWERED for a in attempts)


def _missed(
    outcome: IvrOutcome | None, attempts: tuple[AttemptRecord, ...], ended_at: datetime | None
) -> tuple[bool, MissCause | None]:
    if answered(attempts):
        return False, None
    if outcome in IVR_MISS and not attempts:
        return True, IVR_MISS[outcome]
    if outcome == IvrOutcome.SELF_SERVED or not attempts:
        return False, None
    last = max(attempts, key=lambda a: a.joined_at)
    cause = ATTEMPT_MISS.get(last.outcome) if last.outcome else None
    if cause is None or ended_at is None:
        return False, None
    return True, cause


def _hangup_side(
    outcome: IvrOutcome | None, attempts: tuple[AttemptRecord, ...]
) -> HangupSide | None:
    answered = [a for a in attempts if a.outcome == QueueOutcome.ANSWERED]
    if answered:
        by = answered[-1].hung_up_by
        if by is None:
            return None
        return HangupSide.CALLER if by == f.HungUpBy.CALLER else HangupSide.AGENT
    if attempts:
        last = max(attempts, key=lambda a: a.joined_at).outcome
        if last == QueueOutcome.ABANDONED:
            return HangupSide.CALLER
        return None if last is None else HangupSide.SYSTEM
    if outcome == IvrOutcome.HANGUP_IVR:
        return HangupSide.CALLER
    if outcome in (IvrOutcome.AFTER_HOURS, IvrOutcome.FAILED):
        return HangupSide.SYSTEM
    return None


def is_short_abandon(attempt: AttemptRecord, config: TrackingConfig) -> bool:
    """docs/kpi.md: an abandon with wait < ``short_abandon_s`` is counted apart and left out of
    the abandon rate and the service level (it stays a missed call)."""
    return (
        attempt.outcome == QueueOutcome.ABANDONED
        and attempt.wait_s is not None
        and attempt.wait_s < config.short_abandon_s
    )
