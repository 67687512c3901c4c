"""The projector: a call's journal rows → its ``Call`` row and queue attempts, as plain values.

A pure function of the rows (whatever their order, whatever was journaled twice), so
re-projecting a call after every new fact, or replaying the whole journal, gives the same rows.

Sources, best first: the IVR's outcome (source agi), the dialplan's CLINICALL queue_log line
(written before ``Queue()``, also when the controller was down), queue_log's queue events, AMI
events (live; hang-up, caller name, channel variables).

Missed call (docs/kpi.md, clinic level): an inbound call that reached no operator and was not
self-served; by cause: hung up in IVR, abandoned in queue, timeout, exit key, empty, after
hours, failed.  An overflowed call answered in the second queue is not missed.  A call still in
progress is not (yet) missed: it is decided when the call ends, or at once for an abandon.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from clinicall.controller.asterisk.recording_layout import RecordingName, parse_recording_path
from clinicall.controller.tracking import attempts as att
from clinicall.controller.tracking.attempts import AttemptRecord
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.phone import to_e164
from clinicall.controller.tracking.rows import CHANNEL_KIND, IVR_KIND, JournalRow
from clinicall.db.models import Direction, HangupSide, IvrOutcome, MissCause, QueueOutcome

#: IVR outcome (ivr.outcome.Outcome, CLINICALL line) → stored IvrOutcome.  The IVR's own
#: "fallback" (no valid input, sent to the universal queue) is still a queue outcome; the
#: store's FALLBACK means the controller was unreachable (the dialplan's CLINICALL line).
IVR_OUTCOMES = {
    "queue": IvrOutcome.QUEUE,
    "selfserved": IvrOutcome.SELF_SERVED,
    "afterhours": IvrOutcome.AFTER_HOURS,
    "hangup": IvrOutcome.HANGUP_IVR,
    "fallback": IvrOutcome.QUEUE,
}
MIXMONITOR_FILENAME = "MIXMONITOR_FILENAME"  # set by MixMonitor: the file's full path
MARK_OUTCOMES = {"queue": IvrOutcome.QUEUE, "fallback": IvrOutcome.FALLBACK}
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
class CallRecord:
    linkedid: str
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
    caller_name: str | None = None  # not stored on the call (yet): for the live view
    #: The call's recording (MIXMONITOR_FILENAME), only once an operator answered: MixMonitor
    #: records only while bridged, so an unanswered call's file holds no audio.
    recording: RecordingName | None = None


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the IVR, the CLINICALL line and the channel variables say, merged, best first."""

    ivr: Mapping[str, Any]
    mark: Mapping[str, Any]
    variables: Mapping[str, str]

    def pick(self, ivr: str, mark: str, variable: str = "") -> str | None:
        for value in (self.ivr.get(ivr), self.mark.get(mark), self.variables.get(variable)):
            if value:
                return str(value)
        return None


def project_call(
    linkedid: str, rows: Iterable[JournalRow], config: TrackingConfig
) -> CallRecord | None:
    """The call ``linkedid`` from all its journal rows; None if they hold nothing about a call."""
    ql: list[JournalRow] = []
    ami: list[JournalRow] = []
    ivr: list[JournalRow] = []
    marks: list[JournalRow] = []
    unique = {row.key: row for row in rows}  # a row read twice counts once
    for row in unique.values():
        if row.kind == CHANNEL_KIND:
            continue
        if row.kind == IVR_KIND:
            ivr.append(row)
        elif row.source == "queue_log":
            (marks if row.kind == "CLINICALL" else ql).append(row)
        elif row.source == "ami":
            ami.append(row)
    if not (ql or ami or ivr or marks):
        return None
    facts = _facts(ivr, marks, ami)
    priority = int(facts.ivr.get("priority") or 0)
    attempts = tuple(
        a if a.priority == priority else _with_priority(a, priority)
        for a in att.merge(att.from_queue_log(ql), att.from_ami(ami))
    )
    return _call(linkedid, facts, attempts, ami, ql, marks, config)


def _with_priority(attempt: AttemptRecord, priority: int) -> AttemptRecord:
    return replace(attempt, priority=priority)


def _first(rows: list[JournalRow]) -> JournalRow | None:
    return min(rows, key=lambda r: (r.at, r.id, r.key), default=None)


def _facts(ivr: list[JournalRow], marks: list[JournalRow], ami: list[JournalRow]) -> _Facts:
    ivr_row, mark_row = _first(ivr), _first(marks)
    mark: dict[str, Any] = {}
    if mark_row is not None:
        data = list(mark_row.payload.get("data", []))
        if len(data) > 7:
            data = [*data[:5], "|".join(data[5:-1]), data[-1]]
        names = ("linkedid", "outcome", "language", "route", "path", "caller", "dialled")
        mark = dict(zip(names, data, strict=False))
    variables: dict[str, str] = {}
    for row in sorted(ami, key=lambda r: (r.at, r.id, r.key)):
        if row.kind == "VariableSet":
            variables[str(row.payload.get("name"))] = str(row.payload.get("value", ""))
    return _Facts(ivr_row.payload if ivr_row else {}, mark, variables)


def _call(
    linkedid: str,
    facts: _Facts,
    attempts: tuple[AttemptRecord, ...],
    ami: list[JournalRow],
    ql: list[JournalRow],
    marks: list[JournalRow],
    config: TrackingConfig,
) -> CallRecord:
    channels = sorted((r for r in ami if r.kind == "ChannelCreated"), key=lambda r: (r.at, r.id))
    first = next((r for r in channels if r.payload.get("uniqueid") == linkedid), None)
    first = first or (channels[0] if channels else None)
    first_p: Mapping[str, Any] = first.payload if first else {}
    enter = _first([r for r in ql if r.kind == "ENTERQUEUE"])
    caller_raw = (
        facts.pick("caller", "caller")
        or first_p.get("caller_number")
        or (enter.payload.get("caller_id") if enter else None)
    )
    dialled_raw = facts.pick("dialled", "dialled") or first_p.get("exten")
    outcome = _ivr_outcome(facts)
    ended_at = _ended_at(linkedid, facts, outcome, attempts, ami)
    if outcome is None and not attempts and ended_at is not None:
        outcome = IvrOutcome.FAILED  # ended before the IVR or a queue took it
    missed, cause = _missed(outcome, attempts, ended_at)
    answered_at = min((a.connected_at for a in attempts if a.connected_at), default=None)
    return CallRecord(
        linkedid=linkedid,
        direction=Direction.INBOUND,
        caller=_e164(caller_raw, config),
        dialled=_e164(dialled_raw, config),
        started_at=_started_at(facts, first, attempts, marks, [*ami, *ql]),
        answered_at=answered_at,
        ended_at=ended_at,
        language=facts.pick("language", "language", "CLINICALL_LANG"),
        ivr_path=facts.pick("path", "path", "CLINICALL_PATH"),
        route=facts.pick("route", "route", "CLINICALL_ROUTE"),
        ivr_outcome=outcome,
        hangup_side=_hangup_side(outcome, attempts),
        missed=missed,
        miss_cause=cause,
        attempts=attempts,
        caller_name=str(facts.ivr.get("caller_name") or first_p.get("caller_name") or "") or None,
        recording=_recording(facts, answered_at),
    )


def _recording(facts: _Facts, answered_at: datetime | None) -> RecordingName | None:
    filename = facts.variables.get(MIXMONITOR_FILENAME)
    if answered_at is None or not filename:
        return None
    return parse_recording_path(filename)


def _e164(raw: object, config: TrackingConfig) -> str | None:
    if not raw:
        return None
    number = to_e164(str(raw), country_code=config.country_code, trunk_prefix=config.trunk_prefix)
    return number[:32] if number else None


def _ivr_outcome(facts: _Facts) -> IvrOutcome | None:
    if facts.ivr.get("outcome") in IVR_OUTCOMES:
        return IVR_OUTCOMES[str(facts.ivr["outcome"])]
    mark = facts.pick("", "outcome", "CLINICALL_OUTCOME")
    return MARK_OUTCOMES.get(mark or "")


def _started_at(
    facts: _Facts,
    first: JournalRow | None,
    attempts: tuple[AttemptRecord, ...],
    marks: list[JournalRow],
    everything: list[JournalRow],
) -> datetime:
    candidates = [a.joined_at for a in attempts]
    if first is not None:
        candidates.append(first.at)
    if facts.ivr.get("started_at"):
        candidates.append(datetime.fromisoformat(str(facts.ivr["started_at"])))
    candidates += [r.at for r in marks]
    return min(candidates or [r.at for r in everything])


def _ended_at(
    linkedid: str,
    facts: _Facts,
    outcome: IvrOutcome | None,
    attempts: tuple[AttemptRecord, ...],
    ami: list[JournalRow],
) -> datetime | None:
    """The caller's channel hung up (AMI); else the end of the last queue attempt; else the
    end of an IVR session that did not queue the call."""
    callers = {linkedid, str(facts.ivr.get("uniqueid") or "")} | {a.uniqueid for a in attempts}
    hangups = [
        r.at for r in ami if r.kind == "ChannelHungUp" and r.payload.get("uniqueid") in callers
    ]
    if hangups:
        return max(hangups)
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


def _missed(
    outcome: IvrOutcome | None, attempts: tuple[AttemptRecord, ...], ended_at: datetime | None
) -> tuple[bool, MissCause | None]:
    if any(a.outcome == QueueOutcome.ANSWERED for a in attempts):
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
        return HangupSide.CALLER if by == "caller" else HangupSide.AGENT
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
