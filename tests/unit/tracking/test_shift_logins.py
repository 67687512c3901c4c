"""Operators logged in at link-up (controller/shift_logins.py): an operator the engine lists
in no queue gets their configured queues with their penalties; one it lists anywhere is left
as the engine has them; a queue they logged out of from the console is not added back."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clinicall.controller.desk import OperatorDesk
from clinicall.controller.facts import EngineLink, MemberState
from clinicall.controller.port import (
    EngineRefused,
    EngineTimeout,
    OriginateRequest,
    OriginateResult,
    QueueMemberStatus,
    QueueStatus,
)
from clinicall.controller.shift_logins import Login, ShiftLogins, Skills, logins_due
from clinicall.controller.tracking.live import LiveState

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
SKILLS = [Skills("op101", {"ultrasound": 0, "universal": 1}),
          Skills("op102", {"gynecology": 0, "universal": 2})]


def member(queue: str, name: str) -> QueueMemberStatus:
    return QueueMemberStatus(queue=queue, member=f"PJSIP/{name}", member_name=name,
                             state=MemberState.IDLE, paused=False)


def status(*members: QueueMemberStatus) -> tuple[QueueStatus, ...]:
    queues = ("ultrasound", "gynecology", "universal")
    return tuple(QueueStatus(q, tuple(m for m in members if m.queue == q), 0, 0.0)
                 for q in queues)


def test_an_operator_in_no_queue_gets_all_their_skills() -> None:
    assert logins_due(SKILLS, status(member("universal", "op102")), set()) == [
        Login("ultrasound", "op101", 0), Login("universal", "op101", 1)]


def test_a_queue_the_operator_logged_out_of_is_not_added_back() -> None:
    assert logins_due(SKILLS, status(), {("op101", "ultrasound")}) == [
        Login("universal", "op101", 1), Login("gynecology", "op102", 0),
        Login("universal", "op102", 2)]


def test_a_queue_the_engine_does_not_have_is_skipped() -> None:
    only_universal = (QueueStatus("universal", (), 0, 0.0),)
    assert logins_due(SKILLS, only_universal, set()) == [
        Login("universal", "op101", 1), Login("universal", "op102", 2)]


@dataclass
class FakeControl:
    status: tuple[QueueStatus, ...] = ()
    sent: list[tuple[object, ...]] = field(default_factory=list)
    refuse: str = ""
    fail: bool = False

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        raise NotImplementedError

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:
        if queue == self.refuse:
            raise EngineRefused("QueueAdd", "Unable to add interface to queue: No such queue")
        self.sent.append(("add", queue, member, name, penalty))

    async def queue_member_remove(self, queue: str, member: str) -> None:
        self.sent.append(("remove", queue, member))

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:
        raise NotImplementedError

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


async def link_up(shift: ShiftLogins, key: str) -> None:
    shift.handle_fact(EngineLink(key=key, at=NOW, up=True))
    async with asyncio.timeout(5):
        await shift.done.wait()


async def test_a_link_up_adds_the_due_logins_and_a_refusal_skips_only_that_one() -> None:
    control = FakeControl(status=status(member("ultrasound", "op101")), refuse="gynecology")
    shift = ShiftLogins(control, SKILLS, lambda op: f"PJSIP/{op}")
    await link_up(shift, "up1")
    assert control.sent == [("add", "universal", "PJSIP/op102", "op102", 2)]
    assert shift.added == [Login("universal", "op102", 2)]
    await shift.close()


async def test_an_unread_status_adds_nothing() -> None:
    control = FakeControl(status=status(), fail=True)
    shift = ShiftLogins(control, SKILLS, lambda op: f"PJSIP/{op}")
    await link_up(shift, "up1")
    assert (control.sent, shift.added) == ([], [])
    await shift.close()


async def test_the_desk_tells_the_shift_so_a_later_link_up_keeps_the_logout() -> None:
    control = FakeControl(status=status())
    shift = ShiftLogins(control, SKILLS, lambda op: f"PJSIP/{op}")
    desk = OperatorDesk(control, LiveState(), lambda op: f"PJSIP/{op}", shift=shift)
    await desk.log_out("op102", "gynecology")
    await desk.log_out("op102", "universal")
    await desk.log_in("op102", "universal")  # with the configured penalty
    control.sent.clear()
    await link_up(shift, "up-after-an-engine-restart")  # the engine lost every member
    assert ("add", "gynecology", "PJSIP/op102", "op102", 0) not in control.sent
    assert ("add", "universal", "PJSIP/op102", "op102", 2) in control.sent
    assert ("add", "ultrasound", "PJSIP/op101", "op101", 0) in control.sent
    await shift.close()
