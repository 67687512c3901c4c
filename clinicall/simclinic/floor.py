"""The fake engine's queues and operators: a discrete-event simulation in virtual time.

It plays what the engine's queues do with the callers the IVR hands over (docs/simulate.md),
and says it in the engine-neutral facts an adapter gives the call account
(``controller.facts``): ``QueueJoined``, ``QueueAnswered``, ``QueueCompleted``, ``QueueLeft``
with its reason, ``ChannelClosed``; and the operators' log-ins and log-outs as durable
``MemberJoined``/``MemberLeft`` (the record Asterisk's queue_log is).  Beside the facts it keeps
its own ground truth (:class:`FloorAttempt`), which the simulator's KPIs are computed from.

The queues behave as the generated dialplan and queues.conf make Asterisk's behave
(docs/engines/asterisk.md):

- operators are dedicated to one queue (``<queue>-op<n>``); how many are on duty in each
  local hour is the staffing's (``Staffing``); an operator still talking when their hour ends
  finishes the call and then leaves; each call is followed by the queue's ``wrapup_s``;
- the waiting caller with the highest priority, then the longest wait, is answered by the
  operator idle longest (the operator answers at once: no ring time);
- a caller who finds no operator on duty in a queue other than the last resort (the fallback
  route's queue) does not join it (``joinempty``): they go on to the overflow queue, else the
  last resort; callers waiting when the last operator leaves go on the same way
  (``leavewhenempty``, reason ``empty``);
- at the request's max wait the caller leaves (``timeout``) for the overflow queue with that
  queue's own max wait; after the overflow queue (or with none) the call ends;
- patience runs from the first join across queues: when it is over, the caller hangs up
  (``abandon``);
- a caller who agreed to the post-call survey (``QueueRequest.survey``) is handed back when
  the operator hangs up (:attr:`Floor.handed_back`): the channel stays open for the survey,
  which the day's run plays, so the floor does not close it.

What the callback scheduler needs of an engine (``controller.port.EngineControl``, played by
``simclinic.sim_control``) is here too: :meth:`Floor.status` (the members and the waiting
callers, as ``QueueStatus``), :meth:`Floor.pause` (a paused member is rung by no queue),
:meth:`Floor.engage` / :meth:`Floor.end_call` (a call placed to an operator, outside the
queues) and :meth:`Floor.call_at` (an action at a virtual instant).  An operator's wrap-up
shows as idle, as a phone not in use does on Asterisk: the scheduler may reserve them in it,
and the queue rings them only once it is over.

Times are whole milliseconds from the day's start, so every wait and talk the account gets is
exactly the one the simulation kept.  The floor runs to the end (:meth:`Floor.run`) or instant
by instant (:meth:`Floor.run_until`), when something outside it (the scheduler) acts between
its instants.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clinicall.calltypes import QueueRequest
from clinicall.controller.facts import (
    ChannelClosed,
    Fact,
    HungUpBy,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    MemberState,
    QueueAnswered,
    QueueCompleted,
    QueueJoined,
    QueueLeft,
)
from clinicall.controller.port import QueueEntryStatus, QueueMemberStatus, QueueStatus
from clinicall.settings.models import ClinicConfig

#: Operators on duty in a queue in a local hour (index 0-23 of the day; 24 = after midnight).
Staffing = Callable[[str, int], int]
NORMAL_CLEARING = 16  # Q.850


@dataclass(slots=True)
class FloorAttempt:
    """One stay in one queue, as the simulation decided it (the ground truth)."""

    call_id: str
    queue: str
    joined_ms: int
    priority: int
    outcome: str | None = None  # answered | abandoned | timeout | empty
    wait_ms: int | None = None
    talk_ms: int | None = None
    member: str | None = None


@dataclass(frozen=True, slots=True)
class HandedBack:
    """An answered call whose patient agreed to the post-call survey: the engine hands it back
    to the controller at ``at_ms``, when the operator hung up; its channel stays open."""

    at_ms: int
    call_id: str
    queue: str
    member: str
    request: QueueRequest


@dataclass(slots=True)
class _Call:
    call_id: str
    caller: str
    request: QueueRequest
    patience_ms: int
    handle_ms: int
    first_join_ms: int | None = None
    waiting: FloorAttempt | None = None
    stage: int = 0  # 0: the chosen queue, 1: its overflow, 2: the last resort
    ended: bool = False


@dataclass(slots=True)
class _Seat:
    member: str
    index: int
    queue: str
    busy: bool = False  # talking, or in the wrap-up after: no queue rings them
    talking: bool = False  # in a call (the rest of ``busy`` is wrap-up)
    idle_since: int = 0
    logged_in: bool = False
    paused: bool = False
    pause_reason: str = ""
    calls: int = 0
    engaged: int = 0  # numbers the seat's calls: the end of an earlier one changes nothing


@dataclass(slots=True)
class _Queue:
    name: str
    max_wait_ms: int
    wrapup_ms: int
    last_resort: bool
    seats: list[_Seat] = field(default_factory=list)
    waiting: list[tuple[int, int, int, _Call]] = field(default_factory=list)  # heap
    on_duty: int = 0


@dataclass(frozen=True, slots=True)
class _Duty:
    hour: int


@dataclass(frozen=True, slots=True)
class _Join:
    call: _Call
    queue: str
    max_wait_ms: int


@dataclass(frozen=True, slots=True)
class _Timeout:
    call: _Call
    attempt: FloorAttempt


@dataclass(frozen=True, slots=True)
class _Patience:
    call: _Call


@dataclass(frozen=True, slots=True)
class _TalkEnd:
    seat: _Seat
    engaged: int


@dataclass(frozen=True, slots=True)
class _Free:
    seat: _Seat
    queue: str
    engaged: int


@dataclass(frozen=True, slots=True)
class _Timer:
    action: Callable[[int], None]


_Event = _Duty | _Join | _Timeout | _Patience | _TalkEnd | _Free | _Timer


class Floor:
    """The queues of one day; feed it the IVR's hand-overs with :meth:`enqueue`, then
    :meth:`run` it to the end.  ``facts`` then holds every fact in time order (live ones and
    the durable member facts) and ``attempts`` the ground truth."""

    def __init__(self, config: ClinicConfig, day_start: datetime, hour_starts_ms: list[int],
                 staffing: Staffing) -> None:  # fmt: skip
        self.day_start = day_start
        self.hour_starts_ms = hour_starts_ms
        self.staffing = staffing
        self.last_resort = config.routes[config.ivr.fallback_route].queue
        self.queues = {
            qid: _Queue(qid, q.max_wait_s * 1000, q.wrapup_s * 1000, qid == self.last_resort)
            for qid, q in config.queues.items()
        }
        self.facts: list[tuple[int, int, Fact]] = []
        self.attempts: list[FloorAttempt] = []
        self.handed_back: list[HandedBack] = []
        #: (instant, queue) each time an operator became free to a caller placed outside the
        #: queues (the call's talk ended, the wrap-up ended, a log-in, an unpause)
        self.freed: list[tuple[int, str]] = []
        self._events: list[tuple[int, int, _Event]] = []
        self._seats: dict[str, _Seat] = {}
        self._seq = 0
        for hour, at in enumerate(hour_starts_ms):
            self._push(at, _Duty(hour))

    # ---- input -----------------------------------------------------------------------

    def enqueue(self, at_ms: int, call_id: str, caller: str, request: QueueRequest,
                patience_s: float, handle_s: float) -> None:  # fmt: skip
        """The IVR handed the call to ``request.queue`` at ``at_ms``."""
        call = _Call(call_id, caller, request, max(0, round(patience_s * 1000)),
                     max(1, round(handle_s * 1000)))  # fmt: skip
        self._push(at_ms, _Join(call, request.queue, request.max_wait_s * 1000))

    def run(self) -> None:
        """Process every event in time order (then the facts are sorted by time)."""
        self.run_until(None)
        self.facts.sort(key=lambda item: (item[0], item[1]))

    def next_at(self) -> int | None:
        """The instant of the next event (None: nothing left to happen)."""
        return self._events[0][0] if self._events else None

    def run_until(self, until_ms: int | None) -> None:
        """Process the events up to ``until_ms`` (None: all), in time order.  The facts are
        appended as they are decided; a fact is never dated before the event deciding it, so
        once the floor ran to an instant every fact up to it is known."""
        while self._events and (until_ms is None or self._events[0][0] <= until_ms):
            at, _, event = heapq.heappop(self._events)
            if isinstance(event, _Duty):
                self._duty(at, event.hour)
            elif isinstance(event, _Join):
                self._join(at, event.call, event.queue, event.max_wait_ms)
            elif isinstance(event, _Timeout):
                self._timeout(at, event.call, event.attempt)
            elif isinstance(event, _Patience):
                self._patience(at, event.call)
            elif isinstance(event, _TalkEnd):
                if event.seat.engaged == event.engaged:
                    event.seat.talking = False
                    self.freed.append((at, event.seat.queue))
            elif isinstance(event, _Free):
                self._free(at, event.seat, event.engaged)
            else:
                event.action(at)

    # ---- what the scheduler sees and does (the engine port's control) ----------------

    def status(self, at_ms: int) -> tuple[QueueStatus, ...]:
        """Every queue now: its logged-in operators (in a call, else idle, wrap-up included)
        and its waiting callers in the order they will be answered."""
        out = []
        for queue in self.queues.values():
            members = tuple(QueueMemberStatus(
                queue.name, s.member, s.member,
                MemberState.IN_CALL if s.talking else MemberState.IDLE, s.paused,
                s.pause_reason, s.calls) for s in queue.seats if s.logged_in)  # fmt: skip
            entries = tuple(QueueEntryStatus(call.call_id, (at_ms - joined) / 1000, -priority)
                            for priority, joined, _, call in sorted(queue.waiting))  # fmt: skip
            longest = max((e.wait_s for e in entries), default=0.0)
            out.append(QueueStatus(queue.name, members, len(entries), longest, entries))
        return tuple(out)

    def pause(self, at_ms: int, member: str, *, paused: bool, reason: str = "") -> bool:
        """Pause or resume ``member`` (False: no such operator); a resumed idle operator
        takes the next waiting caller at once."""
        seat = self._seat(member)
        if seat is None:
            return False
        seat.paused, seat.pause_reason = paused, reason if paused else ""
        if not paused and not seat.busy:
            self.freed.append((at_ms, seat.queue))
            self._dispatch(at_ms, self.queues[seat.queue])
        return True

    def engage(self, at_ms: int, member: str) -> bool:
        """``member`` takes a call placed outside the queues now (False: not logged in, or in
        a call): busy until :meth:`end_call`; a wrap-up in progress is cut short."""
        seat = self._seat(member)
        if seat is None or not seat.logged_in or seat.talking:
            return False
        seat.busy = seat.talking = True
        seat.engaged += 1
        seat.calls += 1
        return True

    def end_call(self, at_ms: int, member: str, *, wrapup: bool) -> None:
        """The call :meth:`engage` gave ``member`` ends at ``at_ms``; the queue may ring them
        after its wrap-up (``wrapup``), else at once."""
        seat = self._seat(member)
        if seat is None:
            return
        queue = self.queues[seat.queue]
        self._push(at_ms, _TalkEnd(seat, seat.engaged))
        self._push(at_ms + (queue.wrapup_ms if wrapup else 0),
                   _Free(seat, queue.name, seat.engaged))  # fmt: skip

    def call_at(self, at_ms: int, action: Callable[[int], None]) -> None:
        """Run ``action(at_ms)`` at that instant, among the floor's own events."""
        self._push(at_ms, _Timer(action))

    def tell(self, at_ms: int, fact: Fact) -> None:
        """A fact of a call placed outside the queues, in the floor's stream of facts."""
        self._fact(at_ms, fact)

    def _seat(self, member: str) -> _Seat | None:
        return self._seats.get(member)

    # ---- events ----------------------------------------------------------------------

    def _push(self, at: int, event: _Event) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, event))

    def _fact(self, at_ms: int, fact: Fact) -> None:
        self._seq += 1
        self.facts.append((at_ms, self._seq, fact))

    def at(self, ms: int) -> datetime:
        return self.day_start + timedelta(milliseconds=ms)

    def hour_of(self, ms: int) -> int:
        return max(0, bisect_right(self.hour_starts_ms, ms) - 1)

    def _duty(self, at: int, hour: int) -> None:
        for queue in self.queues.values():
            queue.on_duty = max(0, self.staffing(queue.name, hour))
            self._staff(at, queue)
            if queue.on_duty == 0 and not queue.last_resort:
                while queue.waiting:  # leavewhenempty
                    call = heapq.heappop(queue.waiting)[3]
                    self._leave(at, call, LeaveReason.EMPTY, "empty")
                    self._next_queue(at, call)
            self._dispatch(at, queue)

    def _staff(self, at: int, queue: _Queue) -> None:
        """Log seats in and out to match the hour's count (a busy seat leaves once free)."""
        while len(queue.seats) < queue.on_duty:
            seat = _Seat(f"{queue.name}-op{len(queue.seats) + 1}", len(queue.seats), queue.name,
                         idle_since=at)  # fmt: skip
            queue.seats.append(seat)
            self._seats[seat.member] = seat
        for seat in queue.seats:
            wanted = seat.index < queue.on_duty
            if wanted and not seat.logged_in:
                seat.logged_in, seat.idle_since = True, at
                self.freed.append((at, queue.name))
                self._fact(at, MemberJoined(key=self._key("login", seat.member), at=self.at(at),
                                            durable=True, queue=queue.name,
                                            member=seat.member))  # fmt: skip
            elif not wanted and seat.logged_in and not seat.busy:
                seat.logged_in = False
                self._fact(at, MemberLeft(key=self._key("logout", seat.member), at=self.at(at),
                                          durable=True, queue=queue.name,
                                          member=seat.member))  # fmt: skip

    def _key(self, what: str, who: str) -> str:
        self._seq += 1
        return f"sim:{self.day_start:%Y%m%dT%H}:{what}:{who}:{self._seq}"  # one day's own

    def _join(self, at: int, call: _Call, queue_id: str, max_wait_ms: int) -> None:
        queue = self.queues[queue_id]
        if queue.on_duty == 0 and not queue.last_resort:  # joinempty: not even joined
            self._next_queue(at, call)
            return
        if call.first_join_ms is None:
            call.first_join_ms = at
            self._push(at + call.patience_ms, _Patience(call))
        attempt = FloorAttempt(call.call_id, queue_id, at, call.request.priority)
        self.attempts.append(attempt)
        call.waiting = attempt
        position = len(queue.waiting) + 1
        self._fact(at, QueueJoined(key=self._key("join", call.call_id), at=self.at(at),
                                   call_id=call.call_id, channel_id=call.call_id,
                                   queue=queue_id, position=position,
                                   caller_number=call.caller))  # fmt: skip
        self._seq += 1
        heapq.heappush(queue.waiting, (-call.request.priority, at, self._seq, call))
        self._push(at + max_wait_ms, _Timeout(call, attempt))
        self._dispatch(at, queue)

    def _next_queue(self, at: int, call: _Call) -> None:
        """On from a queue the caller could not stay in: the overflow, then the last resort;
        after those the call ends."""
        overflow = call.request.overflow_queue
        if call.stage == 0 and overflow and overflow in self.queues:
            call.stage = 1
            self._push(at, _Join(call, overflow, self.queues[overflow].max_wait_ms))
        elif call.stage < 2 and call.request.queue != self.last_resort:
            call.stage = 2
            self._push(at, _Join(call, self.last_resort,
                                 self.queues[self.last_resort].max_wait_ms))
        else:
            self._hangup(at, call)

    def _timeout(self, at: int, call: _Call, attempt: FloorAttempt) -> None:
        if call.waiting is not attempt:
            return  # answered or gone before its max wait
        self._remove(call)
        self._leave(at, call, LeaveReason.TIMEOUT, "timeout")
        overflow = call.request.overflow_queue
        if call.stage == 0 and overflow is not None and overflow in self.queues:
            call.stage = 1
            self._push(at, _Join(call, overflow, self.queues[overflow].max_wait_ms))
        else:
            self._hangup(at, call)

    def _patience(self, at: int, call: _Call) -> None:
        if call.waiting is None or call.ended:
            return
        self._remove(call)
        self._leave(at, call, LeaveReason.ABANDON, "abandoned")
        self._hangup(at, call)

    def _remove(self, call: _Call) -> None:
        assert call.waiting is not None
        queue = self.queues[call.waiting.queue]
        queue.waiting = [w for w in queue.waiting if w[3] is not call]
        heapq.heapify(queue.waiting)

    def _leave(self, at: int, call: _Call, reason: LeaveReason, outcome: str) -> None:
        attempt = call.waiting
        assert attempt is not None
        attempt.outcome, attempt.wait_ms = outcome, at - attempt.joined_ms
        call.waiting = None
        self._fact(at, QueueLeft(key=self._key("leave", call.call_id), at=self.at(at),
                                 call_id=call.call_id, channel_id=call.call_id,
                                 queue=attempt.queue, reason=reason,
                                 wait_ms=attempt.wait_ms))  # fmt: skip

    def _hangup(self, at: int, call: _Call) -> None:
        call.ended = True
        self._fact(at, ChannelClosed(key=self._key("hangup", call.call_id), at=self.at(at),
                                     call_id=call.call_id, channel_id=call.call_id,
                                     cause=NORMAL_CLEARING))  # fmt: skip

    def _free(self, at: int, seat: _Seat, engaged: int) -> None:
        """The seat's call and wrap-up are over (unless a later call took it meanwhile)."""
        if seat.engaged != engaged:
            return
        seat.busy = seat.talking = False
        seat.idle_since = at
        self.freed.append((at, seat.queue))
        queue = self.queues[seat.queue]
        self._staff(at, queue)
        self._dispatch(at, queue)

    def _dispatch(self, at: int, queue: _Queue) -> None:
        while queue.waiting:
            idle = [s for s in queue.seats if s.logged_in and not s.busy and not s.paused
                    and s.index < queue.on_duty]  # fmt: skip
            if not idle:
                return
            seat = min(idle, key=lambda s: (s.idle_since, s.index))
            call = heapq.heappop(queue.waiting)[3]
            self._answer(at, queue, seat, call)

    def _answer(self, at: int, queue: _Queue, seat: _Seat, call: _Call) -> None:
        attempt = call.waiting
        assert attempt is not None
        call.waiting, call.ended = None, True
        seat.busy = seat.talking = True
        seat.engaged += 1
        seat.calls += 1
        wait = at - attempt.joined_ms
        attempt.outcome, attempt.wait_ms = "answered", wait
        attempt.talk_ms, attempt.member = call.handle_ms, seat.member
        end = at + call.handle_ms
        ids = call.call_id
        self._fact(at, QueueAnswered(key=self._key("answer", ids), at=self.at(at), call_id=ids,
                                     channel_id=ids, queue=queue.name, member=seat.member,
                                     wait_ms=wait, ring_ms=0))  # fmt: skip
        self._fact(end, QueueCompleted(key=self._key("complete", ids), at=self.at(end),
                                       call_id=ids, channel_id=ids, queue=queue.name,
                                       member=seat.member, wait_ms=wait, talk_ms=call.handle_ms,
                                       hung_up_by=HungUpBy.AGENT))  # fmt: skip
        if call.request.survey:  # handed back for the survey: the channel stays open
            self.handed_back.append(HandedBack(end, ids, queue.name, seat.member, call.request))
        else:
            self._fact(end, ChannelClosed(key=self._key("hangup", ids), at=self.at(end),
                                          call_id=ids, channel_id=ids,
                                          cause=NORMAL_CLEARING))  # fmt: skip
        self._push(end, _TalkEnd(seat, seat.engaged))
        self._push(end + queue.wrapup_ms, _Free(seat, queue.name, seat.engaged))
