"""What the callback scheduler's tests share: a scripted engine control, the example clinic,
a movable clock and missed calls written into the account."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.callbacks import CallbackScheduler, SchedulerSettings
from clinicall.controller.facts import MemberState
from clinicall.controller.port import (
    OriginateRequest,
    OriginateResult,
    QueueEntryStatus,
    QueueMemberStatus,
    QueueStatus,
)
from clinicall.db.callbacks import CallbackStore
from clinicall.db.models import (
    Call,
    Callback,
    CallbackReason,
    CallbackState,
    Direction,
    IvrOutcome,
    MissCause,
    QueueAttempt,
    QueueOutcome,
)
from clinicall.db.writer import StoreWriter
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig

Sessions = async_sessionmaker[AsyncSession]
EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "clinic.example.yaml"
QUEUE = "ultrasound"
TUESDAY_10_KYIV = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # the clinic is open
TUESDAY_21_KYIV = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)  # closed (opens 08:00 Kyiv)
WEDNESDAY_OPENING = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 09:00 Kyiv: clinic and patient
ANNA = "+380501111111"


def example_config(**callbacks: object) -> ClinicConfig:
    config = load_config(EXAMPLE)
    return config.model_copy(update={"callbacks": config.callbacks.model_copy(update=callbacks)})


def call_id_for(key: str) -> str:
    return f"call-{key}"


class Clock:
    def __init__(self, at: datetime = TUESDAY_10_KYIV) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


#: What the fake engine does with one originate: return (answered), or raise this error.
Outcome = Exception | None


class ScriptedControl:
    """``EngineControl`` with a queue whose members and waiting callers a test sets, and
    originates that end as scripted (by default: answered).  ``hold``: originates wait for
    this event before they end (an originate "in flight")."""

    def __init__(self, members: int = 1, queue: str = QUEUE) -> None:
        self.queue = queue
        self.members = [QueueMemberStatus(queue, f"Local/op{i}@ops", f"op{i}", MemberState.IDLE,
                                          paused=False) for i in range(1, members + 1)]
        self.entries: list[QueueEntryStatus] = []
        self.sent: list[OriginateRequest] = []
        self.script: list[Outcome] = []
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.offered: list[str] = []  # channels taken into the callback offer, in order
        #: every pause command: (member, paused, reason)
        self.pauses: list[tuple[str, bool, str]] = []
        #: members the queue rings for a live caller the instant they are next paused: the
        #: race of an operator freed up with no wrap-up (docs/callbacks.md)
        self.taken: set[str] = set()

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        self.sent.append(request)
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        return OriginateResult(request.key, call_id_for(request.key), call_id_for(request.key))

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        longest = max((e.wait_s for e in self.entries), default=0.0)
        return (QueueStatus(self.queue, tuple(self.members), len(self.entries), longest,
                            tuple(self.entries)),)  # fmt: skip

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:  # fmt: skip
        raise NotImplementedError

    async def queue_member_remove(self, queue: str, member: str) -> None:
        raise NotImplementedError

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:  # fmt: skip
        self.pauses.append((member, paused, reason))
        state = MemberState.RINGING if paused and member in self.taken else None
        self.members = [replace(m, paused=paused, pause_reason=reason if paused else "",
                                state=state or m.state) if m.member == member else m
                        for m in self.members]  # fmt: skip

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        raise NotImplementedError

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        raise NotImplementedError

    async def offer_callback(self, channel_id: str) -> None:
        self.offered.append(channel_id)


async def write_ivr_miss(sessions: Sessions, key: str, at: datetime, *, caller: str = ANNA,
                         outcome: IvrOutcome = IvrOutcome.AFTER_HOURS,
                         cause: MissCause = MissCause.AFTER_HOURS) -> int:  # fmt: skip
    """An inbound call that ended in the IVR, before any queue (after hours, by default)."""
    async with sessions.begin() as session, StoreWriter(session) as writer:
        call = Call(call_key=key, direction=Direction.INBOUND, caller=caller, started_at=at,
                    ended_at=at + timedelta(seconds=30), ivr_outcome=outcome, missed=True,
                    miss_cause=cause)  # fmt: skip
        session.add(call)
        writer.call_changed(Direction.INBOUND, caller, None, at)
        await session.flush()
        return call.id


def scheduler(sessions: Sessions, control: ScriptedControl, clock: Callable[[], datetime],
              config: ClinicConfig | None = None, *, owner: str = "c1",
              lease: timedelta = timedelta(minutes=3)) -> CallbackScheduler:  # fmt: skip
    store = CallbackStore(sessions, owner=owner, lease=lease)
    settings = SchedulerSettings(owner=owner, lease=lease, interval_s=0.05)
    return CallbackScheduler(control, store, config or example_config(), call_id_for=call_id_for,
                             clock=clock, settings=settings, country_code="380")


async def write_call(sessions: Sessions, key: str, at: datetime, *, caller: str = ANNA,
                     answered: bool = False, queue: str = QUEUE) -> int:  # fmt: skip
    """An inbound call that waited in ``queue``: abandoned after a minute, or answered."""
    async with sessions.begin() as session, StoreWriter(session) as writer:
        call = Call(call_key=key, direction=Direction.INBOUND, caller=caller, started_at=at,
                    ended_at=at + timedelta(minutes=1), ivr_outcome=IvrOutcome.QUEUE,
                    route=QUEUE, missed=not answered,
                    miss_cause=None if answered else MissCause.ABANDONED)  # fmt: skip
        call.queue_attempts.append(QueueAttempt(
            channel_id=f"{key}-ch", queue=queue, joined_at=at + timedelta(seconds=10),
            connected_at=at + timedelta(seconds=20) if answered else None,
            left_at=at + timedelta(minutes=1),
            outcome=QueueOutcome.ANSWERED if answered else QueueOutcome.ABANDONED))
        session.add(call)
        writer.call_changed(Direction.INBOUND, caller, None, at, [at + timedelta(seconds=10)])
        await session.flush()
        return call.id


async def add_due_jobs(sessions: Sessions, count: int, queue: str = QUEUE,
                       first: int = 0) -> None:  # fmt: skip
    """``count`` manual jobs of ``queue``, all due now, in arrival order (the two-controller
    test and its bench); numbers from ``first`` on."""
    async with sessions.begin() as session, StoreWriter(session):
        session.add_all(
            Callback(phone=f"+38050{i:07d}", queue=queue, reason=CallbackReason.MANUAL,
                     arrived_at=TUESDAY_10_KYIV + timedelta(milliseconds=i),
                     due_at=TUESDAY_10_KYIV, created_at=TUESDAY_10_KYIV,
                     state=CallbackState.PENDING, attempts=0)
            for i in range(first, first + count))  # fmt: skip
