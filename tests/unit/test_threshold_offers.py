"""The offer at the wait threshold (``controller/callbacks/threshold_offers.py``) on a scripted
engine: only callers whose estimate (live callers and callbacks ahead) passed the queue's
threshold are taken into the offer, each once; a caller the engine left in the queue is asked
again, a caller back from the offer never."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clinicall.controller.callbacks.threshold_offers import (
    RESEND_AFTER,
    TRIES,
    Offered,
    ThresholdOffers,
    ask_again,
    still_waiting,
)
from clinicall.controller.facts import MemberState
from clinicall.controller.port import (
    EngineRefused,
    EngineUnavailable,
    QueueEntryStatus,
    QueueMemberStatus,
    QueueStatus,
)
from clinicall.db.callbacks import JobRow
from clinicall.settings import ClinicConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
QUEUE = "universal"


def _config(offer_after_min: int | None = 5) -> ClinicConfig:
    config = load_config(EXAMPLE)
    return config.model_copy(update={"callbacks": config.callbacks.model_copy(
        update={"enabled": True, "offer_after_min": offer_after_min,
                "default_handle_s": 180})})  # fmt: skip


@dataclass
class ScriptedControl:
    """A queue with one paused operator (logged in, not free) and the callers a test sets."""

    entries: list[QueueEntryStatus] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)
    asked_status: int = 0
    refuse: bool = False
    down: bool = False

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        self.asked_status += 1
        if self.down:
            raise EngineUnavailable("QueueStatus", "link down")
        member = QueueMemberStatus(QUEUE, "PJSIP/op104", "op104", MemberState.IDLE, True)
        return (QueueStatus(QUEUE, (member,), len(self.entries), 0.0, tuple(self.entries)),)

    async def offer_callback(self, channel_id: str) -> None:
        if self.refuse:
            raise EngineRefused("PlayDTMF", "no such channel")
        self.offered.append(channel_id)


@dataclass
class Line:
    jobs: list[JobRow] = field(default_factory=list)
    #: channel → first join in QUEUE, of callers back after an offer (the account's stays)
    kept: dict[str, datetime] = field(default_factory=dict)

    async def line(self, queue: str | None, now: datetime, *, limit: int) -> list[JobRow]:
        return [j for j in self.jobs if j.queue == queue][:limit]

    async def kept_places(self, queue: str, channel_ids: Iterable[str]) -> dict[str, datetime]:
        wanted = set(channel_ids)
        return {c: at for c, at in self.kept.items() if queue == QUEUE and c in wanted}


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


def _job(arrived_at: datetime) -> JobRow:
    return JobRow(id=7, phone="+380501230099", queue=QUEUE, reason="requested",
                  arrived_at=arrived_at, due_at=NOW, state="pending", attempts=0, priority=0,
                  origin_call_id=None, language="en", claimed_by=None, result=None)  # fmt: skip


def _offers(control: ScriptedControl, line: Line | None = None,
            config: ClinicConfig | None = None) -> tuple[ThresholdOffers, Clock]:  # fmt: skip
    clock = Clock()
    offers = ThresholdOffers(control, line or Line(), config or _config(),  # type: ignore[arg-type]
                             clock=clock)  # fmt: skip
    return offers, clock


async def test_only_callers_whose_estimate_passed_the_threshold_are_offered_once() -> None:
    # one operator, 180 s a call: X (first) waits 3 min, A 6 min, B 9 min; threshold 5 min
    control = ScriptedControl([QueueEntryStatus("x", 60.0), QueueEntryStatus("a", 30.0),
                               QueueEntryStatus("b", 10.0)])  # fmt: skip
    offers, clock = _offers(control)
    assert await offers.run_once() == ["a", "b"]
    clock.at += timedelta(seconds=1)
    control.entries = [QueueEntryStatus("x", 61.0)]  # A and B are in the offer
    assert await offers.run_once() == []
    assert control.offered == ["a", "b"]


async def test_callbacks_ahead_count_in_the_estimate() -> None:
    # a callback whose call came before X: X now has one ahead (6 min), Y joined before it
    control = ScriptedControl([QueueEntryStatus("y", 300.0), QueueEntryStatus("x", 60.0)])
    offers, _ = _offers(control, Line([_job(NOW - timedelta(seconds=120))]))
    assert await offers.run_once() == ["x"]


async def test_a_caller_the_engine_left_in_the_queue_is_asked_again_a_returning_one_never(
) -> None:  # fmt: skip
    control = ScriptedControl([QueueEntryStatus("x", 60.0), QueueEntryStatus("a", 30.0),
                               QueueEntryStatus("b", 10.0)])  # fmt: skip
    offers, clock = _offers(control)
    await offers.run_once()
    clock.at += RESEND_AFTER
    # A's key was lost (still the same stay: 30 s + the time since); B went to the offer
    # and came back 2 s ago
    control.entries = [QueueEntryStatus("x", 66.0), QueueEntryStatus("a", 36.0),
                       QueueEntryStatus("b", 2.0)]  # fmt: skip
    assert await offers.run_once() == ["a"]
    for _ in range(TRIES):  # at most TRIES requests in all
        clock.at += RESEND_AFTER
        control.entries = [QueueEntryStatus(e.channel_id, e.wait_s + RESEND_AFTER.seconds)
                           for e in control.entries]  # fmt: skip
        await offers.run_once()
    assert control.offered == ["a", "b", *["a"] * (TRIES - 1)]


async def test_a_caller_back_after_an_offer_is_not_offered_again_by_any_controller() -> None:
    """A second controller (or this one after a restart) remembers no offer; the account's
    stay left by the key says A had theirs, and A's first join counts for those behind."""
    control = ScriptedControl([QueueEntryStatus("x", 60.0), QueueEntryStatus("a", 2.0),
                               QueueEntryStatus("b", 10.0)])  # fmt: skip
    offers, _ = _offers(control, Line(kept={"a": NOW - timedelta(seconds=30)}))
    # A's estimate passed the threshold too (two ahead as the engine has it: 9 min), but A
    # had their offer; B (X and, at A's first join, A ahead) is offered
    assert await offers.run_once() == ["b"]
    assert control.offered == ["b"]


def test_the_same_stay_is_told_from_a_rejoin_by_the_engines_wait() -> None:
    sent = Offered(NOW)
    later = NOW + timedelta(seconds=10)
    assert still_waiting(sent, 40.0, later)
    assert still_waiting(sent, 9.0, later)  # whole seconds: the engine rounds down
    assert not still_waiting(sent, 3.0, later)  # back from the offer 3 s ago
    assert not ask_again(sent, 40.0, NOW + RESEND_AFTER - timedelta(seconds=1))
    assert ask_again(sent, 40.0, NOW + RESEND_AFTER)
    assert not ask_again(Offered(NOW, TRIES), 40.0, NOW + RESEND_AFTER)


async def test_no_threshold_asks_the_engine_nothing() -> None:
    control = ScriptedControl([QueueEntryStatus("x", 600.0)])
    offers, _ = _offers(control, config=_config(None))
    assert offers.thresholds() == {}
    assert await offers.run_once() == []
    assert control.asked_status == 0


async def test_an_engine_that_fails_loses_no_round_and_raises_nothing() -> None:
    control = ScriptedControl([QueueEntryStatus("x", 60.0), QueueEntryStatus("a", 30.0)],
                              down=True)  # fmt: skip
    offers, clock = _offers(control)
    assert await offers.run_once() == []
    control.down, control.refuse = False, True
    assert await offers.run_once() == []  # refused: logged, asked again later
    control.refuse = False
    clock.at += RESEND_AFTER
    control.entries = [QueueEntryStatus("x", 66.0), QueueEntryStatus("a", 36.0)]
    assert await offers.run_once() == ["a"]
