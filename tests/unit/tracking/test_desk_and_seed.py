"""The operator's desk and the grid's seed on a fake engine port: a member is found by the
operator's id as the engine names them (else the default interface), commands go to the port
as asked, the caller's number reaches the pop in E.164, and a link-up folds the engine's queue
members into the live state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clinicall.controller.desk import OperatorDesk
from clinicall.controller.facts import (
    EngineLink,
    MemberRung,
    MemberSeen,
    MemberState,
    QueueJoined,
)
from clinicall.controller.port import (
    EngineTimeout,
    OriginateRequest,
    OriginateResult,
    QueueMemberStatus,
    QueueStatus,
)
from clinicall.controller.tracking.live import LiveState
from clinicall.controller.tracking.live_seed import MemberSeed

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


@dataclass
class FakeControl:
    sent: list[tuple[object, ...]] = field(default_factory=list)
    status: tuple[QueueStatus, ...] = ()
    fail: bool = False

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        raise NotImplementedError

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:
        self.sent.append(("add", queue, member, name))

    async def queue_member_remove(self, queue: str, member: str) -> None:
        self.sent.append(("remove", queue, member))

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:
        self.sent.append(("pause", member, paused, reason))

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        if self.fail:
            raise EngineTimeout("QueueStatus", "no answer")
        return self.status

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        raise NotImplementedError

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        raise NotImplementedError

    async def offer_callback(self, channel_id: str) -> None:
        raise NotImplementedError


async def test_the_desk_finds_the_member_by_the_operator_id_and_sends_commands() -> None:
    live, control = LiveState(), FakeControl()
    desk = OperatorDesk(control, live, lambda op: f"PJSIP/{op}", country_code="380")
    await desk.log_in("op102", "gynecology")  # never seen: the default interface
    live.apply(MemberSeen(key="m", at=NOW, queue="gynecology", member="Local/op102@sim/n",
                          member_name="op102", state=MemberState.IDLE, paused=False))
    await desk.pause("op102", paused=True, reason="lunch")
    await desk.log_out("op102", "universal")
    await desk.pause("op102", paused=False, reason="lunch")
    assert control.sent == [("add", "gynecology", "PJSIP/op102", "op102"),
                            ("pause", "Local/op102@sim/n", True, "lunch"),
                            ("remove", "universal", "Local/op102@sim/n"),
                            ("pause", "Local/op102@sim/n", False, "")]
    assert desk.call_now("op102") is None
    live.apply(QueueJoined(key="j", at=NOW, call_id="c", channel_id="c", queue="gynecology",
                           caller_number="0501112233"))
    live.apply(MemberRung(key="r", at=NOW, call_id="c", channel_id="c", queue="gynecology",
                          member="Local/op102@sim/n", member_name="op102"))
    popped = desk.call_now("op102")
    assert popped is not None
    assert (popped.call.call_id, popped.caller_e164) == ("c", "+380501112233")


async def test_a_link_up_seeds_the_grid_and_a_failure_waits_for_the_next() -> None:
    member = QueueMemberStatus(queue="therapy", member="PJSIP/op103", member_name="op103",
                               state=MemberState.IDLE, paused=True, pause_reason="break")
    live = LiveState()
    control = FakeControl(status=(QueueStatus("therapy", (member,), 0, 0.0),), fail=True)
    seed = MemberSeed(live, control, clock=lambda: NOW)
    seed.handle_fact(EngineLink(key="up1", at=NOW, up=True))
    async with asyncio.timeout(5):
        await seed.tried.wait()
    assert live.members() == []  # the engine did not answer: nothing invented
    assert not seed.seeded.is_set()
    control.fail = False
    seed.handle_fact(EngineLink(key="up2", at=NOW, up=True))
    async with asyncio.timeout(5):
        await seed.seeded.wait()
    (seen,) = live.members()
    assert (seen.member, seen.name, seen.paused, seen.pause_reason) == (
        "PJSIP/op103", "op103", True, "break")
    await seed.close()
