"""The fake engine's control port: what the callback scheduler commands, played on the floor.

The scheduler (``controller.callbacks.CallbackScheduler``) talks to every engine through
``controller.port.EngineControl``; this is that port for the simulated day, so the product's
own scheduler runs unchanged.  It reads the queues from the floor (``queue_status``), reserves
operators by pausing them (``queue_member_pause``) and places callbacks (``originate``), agent
first as the real engines do:

1. the reserved operator is rung and answers at once (the floor's operators have no ring time)
   and hears the whisper, :data:`WHISPER_S`;
2. then the patient's phone rings: a patient who answers this try (``Afterwards.
   callback_rings_s``, the n-th dial of their number taking the n-th draw) is greeted
   (:data:`GREETING_S`) and talks their ``handle_s`` with the operator, who then has the
   queue's wrap-up; a patient who does not answer rings for the request's ``ring_timeout_s``
   and the operator is free at once;
3. the outcome goes back through the port the real engines use: ``originate`` returns at the
   patient's answer, or raises ``OriginateFailed(NO_ANSWER)`` when the ring ran out.

The call itself is told to the account as the engines tell it: the channel opened with the call
data the originate carries (``purpose``, ``dialled``), ``outcome = callback_answered`` when the
patient answered, the channel closed; so the account stores it as an outbound call that returns
the missed one (docs/kpi.md).

``originate`` waits in virtual time: it parks until the floor reaches the outcome's instant.
The day's run drives both: after a round it waits until every claimed job has been dialled
(:meth:`SimControl.wait_dialled`), and after each instant it lets the attempts whose outcome
came settle (:meth:`SimControl.settle_woken`) before time goes on.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from clinicall.controller.facts import (
    CALL_DATA,
    CallDataSet,
    ChannelClosed,
    ChannelOpened,
)
from clinicall.controller.port import (
    CALLBACK_ANSWERED,
    EngineError,
    EngineRefused,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
    OriginateResult,
    QueueStatus,
)
from clinicall.simclinic.day import SimPatient
from clinicall.simclinic.floor import NORMAL_CLEARING, Floor
from clinicall.simclinic.virtual_port import PROMPT_S

#: The whisper to the operator before the patient is dialled: two prompts.
WHISPER_S = 2 * PROMPT_S
#: The greeting to the patient once they answered, before the two are bridged: one prompt.
GREETING_S = PROMPT_S
#: How long the run waits (wall time) for the scheduler to dial the jobs it claimed; past it
#: the scheduler is stuck somewhere the simulation does not know, and the run says so.
STALL_S = 60.0


@dataclass(frozen=True, slots=True)
class Dial:
    """One callback call as the fake engine placed it (the ground truth)."""

    key: str
    job: str  # the job's id, from the originate's call data
    number: str
    queue: str
    member: str
    at: datetime
    answered: bool
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class _Placed:
    """An originate received: its request, the outcome it waits for, and its task."""

    request: OriginateRequest
    outcome: asyncio.Future[OriginateResult]
    task: asyncio.Task[object]


class SimControl:
    """``EngineControl`` on a :class:`Floor` (see the module docstring).  ``now_ms``: the run's
    virtual instant; ``patients``: who answers a number; ``call_id_for``: the engine's id of a
    placed call (the scheduler stores it with the attempt).

    A round's attempts run concurrently and reach ``originate`` in whatever order the store
    answers them; so the floor takes the originates received by a round in the order of their
    keys (:meth:`place_received`), and the attempts woken at one instant settle one at a time
    in the order the floor decided them (:meth:`settle_woken`): the same seed, the same day."""

    def __init__(self, floor: Floor, now_ms: Callable[[], int], *,
                 patients: Mapping[str, SimPatient], call_id_for: Callable[[str], str],
                 caller_id: str) -> None:  # fmt: skip
        self.floor, self.now_ms = floor, now_ms
        self.patients, self.call_id_for, self.caller_id = patients, call_id_for, caller_id
        self.dials: list[Dial] = []
        self.dialled = 0  # originates received
        self._tries: Counter[str] = Counter()  # dials per number
        self._arrived = asyncio.Event()
        self._received: list[_Placed] = []
        self._woken: list[tuple[_Placed, OriginateResult | EngineError]] = []

    # ---- the day's run ----------------------------------------------------------------

    async def wait_dialled(self, count: int) -> None:
        """Until ``count`` originates were received in all (the claimed jobs are dialled),
        then puts them on the floor (:meth:`place_received`)."""
        try:
            async with asyncio.timeout(STALL_S):
                while self.dialled < count:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise RuntimeError(f"the callback scheduler claimed jobs it did not dial: "
                               f"{self.dialled} of {count} dialled") from None
        self.place_received()

    def place_received(self) -> None:
        """The originates received so far onto the floor, in the order of their keys."""
        received, self._received = self._received, []
        for placed in sorted(received, key=lambda p: p.request.key):
            self._place(placed)

    @property
    def woken(self) -> bool:
        """Some attempt's outcome came and it has not settled yet."""
        return bool(self._woken)

    async def settle_woken(self) -> None:
        """Each attempt whose outcome the floor decided gets it and settles (its job's next
        state stored, its operator released) before the next one."""
        while self._woken:
            (placed, result), *self._woken = self._woken
            if isinstance(result, OriginateResult):
                placed.outcome.set_result(result)
            else:
                placed.outcome.set_exception(result)
            await asyncio.wait({placed.task})  # what it raises is its owner's to see

    # ---- EngineControl ------------------------------------------------------------------

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        """Waits, in virtual time, for the outcome of the call (see the module docstring)."""
        task = asyncio.current_task()
        assert task is not None
        outcome: asyncio.Future[OriginateResult] = asyncio.get_running_loop().create_future()
        self._received.append(_Placed(request, outcome, task))
        self.dialled += 1
        self._arrived.set()
        return await outcome

    def _place(self, placed: _Placed) -> None:
        request, at = placed.request, self.now_ms()
        refusal: EngineError | None = None
        if not request.agent:
            refusal = EngineRefused("originate", "the simulated engine places agent-first calls")
        elif not self.floor.engage(at, request.agent):
            refusal = OriginateFailed("originate", OriginateCause.AGENT_MISSED)
        if refusal is not None:  # told at the floor's next instant, like any outcome
            error = refusal
            self.floor.call_at(at, lambda ms: self._woken.append((placed, error)))
            return
        call_id = self.call_id_for(request.key)
        self.floor.tell(at, ChannelOpened(key=f"{call_id}:open", at=self.floor.at(at),
                                          call_id=call_id, channel_id=call_id,
                                          caller_number=self.caller_id, caller_name="",
                                          dialled=request.number))  # fmt: skip
        for name, value in request.data.items():
            if name in CALL_DATA:
                self.floor.tell(at, CallDataSet(key=f"{call_id}:{name}", at=self.floor.at(at),
                                                call_id=call_id, channel_id=call_id,
                                                name=name, value=value))  # fmt: skip
        self._tries[request.number] += 1
        ring = self._ring_s(request.number, self._tries[request.number])
        whispered = at + round(WHISPER_S * 1000)
        if ring is None:  # rings out: the operator is free at once
            over = whispered + round(request.ring_timeout_s * 1000)
            self.floor.call_at(over, lambda ms: self._no_answer(ms, placed, at))
        else:
            self.floor.call_at(whispered + round(ring * 1000),
                               lambda ms: self._answered(ms, placed, at))

    def _ring_s(self, number: str, attempt: int) -> float | None:
        patient = self.patients.get(number)
        rings = patient.afterwards.callback_rings_s if patient is not None else ()
        return rings[attempt - 1] if attempt <= len(rings) else None

    def _answered(self, ms: int, placed: _Placed, began: int) -> None:
        request = placed.request
        call_id = self.call_id_for(request.key)
        self.floor.tell(ms, CallDataSet(key=f"{call_id}:answered", at=self.floor.at(ms),
                                        call_id=call_id, channel_id=call_id, name="outcome",
                                        value=CALLBACK_ANSWERED))  # fmt: skip
        patient = self.patients.get(request.number)
        talk = round((patient.handle_s if patient is not None else 0.0) * 1000)
        end = ms + round(GREETING_S * 1000) + max(1, talk)
        self._close(end, call_id)
        self.floor.end_call(end, request.agent, wrapup=True)
        self._record(request, began, answered=True, ended=end)
        self._woken.append((placed, OriginateResult(request.key, call_id, call_id)))

    def _no_answer(self, ms: int, placed: _Placed, began: int) -> None:
        request = placed.request
        self._close(ms, self.call_id_for(request.key))
        self.floor.end_call(ms, request.agent, wrapup=False)
        self._record(request, began, answered=False, ended=ms)
        self._woken.append((placed, OriginateFailed("originate", OriginateCause.NO_ANSWER)))

    def _close(self, ms: int, call_id: str) -> None:
        self.floor.tell(ms, ChannelClosed(key=f"{call_id}:close", at=self.floor.at(ms),
                                          call_id=call_id, channel_id=call_id,
                                          cause=NORMAL_CLEARING))  # fmt: skip

    def _record(self, request: OriginateRequest, began: int, *, answered: bool,
                ended: int) -> None:  # fmt: skip
        self.dials.append(Dial(request.key, request.data.get("callback", ""), request.number,
                               request.queue, request.agent, self.floor.at(began), answered,
                               self.floor.at(ended)))  # fmt: skip

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        return self.floor.status(self.now_ms())

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:  # fmt: skip
        if not self.floor.pause(self.now_ms(), member, paused=paused, reason=reason):
            raise EngineRefused("pause", f"no operator {member}")

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:  # fmt: skip
        raise EngineRefused("add", "the simulated day's operators follow the staffing")

    async def queue_member_remove(self, queue: str, member: str) -> None:
        raise EngineRefused("remove", "the simulated day's operators follow the staffing")

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        raise EngineRefused("hangup", "not simulated")

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        raise EngineRefused("set_call_data", "not simulated")

    async def offer_callback(self, channel_id: str) -> None:
        raise EngineRefused("offer_callback", "no in-queue offer on the simulated day")
