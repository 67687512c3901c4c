"""The controller's wait announcement as a caller joins a queue (``callbacks.announce_wait``,
per queue; docs/callbacks.md, "Estimated wait"): said where the policy says, from the offer
desk's place; a desk that fails or is slow costs the words, never the caller's place in the
queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from clinicall.calltypes import CallInfo, QueuedCall
from clinicall.controller.offer_desk import OfferPlace
from clinicall.controller.port import Engine
from clinicall.controller.service import Controller
from clinicall.routing.callable_numbers import NumberCheck
from clinicall.routing.wait_estimate import WaitRange
from clinicall.settings.models import CallbackOverride, ClinicConfig

from .ivr_fakes import FakePort

MONDAY_10 = datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Europe/Kyiv"))
TO_ULTRASOUND = ["1", "1", "1"]  # Ukrainian, appointments, ultrasound


class Desk:
    def __init__(self, *, fails: bool = False, hangs: bool = False) -> None:
        self.fails, self.hangs = fails, hangs
        self.asked: list[tuple[str, str, int]] = []

    def check(self, queue: str) -> Callable[[str | None], NumberCheck]:
        raise NotImplementedError

    async def place(self, info: CallInfo, queued: QueuedCall) -> OfferPlace:
        raise NotImplementedError

    async def place_at_join(self, info: CallInfo, queue: str, priority: int) -> OfferPlace:
        self.asked.append((info.call_id, queue, priority))
        if self.fails:
            raise RuntimeError("the store is down")
        if self.hangs:  # the store never answers
            await asyncio.Event().wait()
        return OfferPlace(2, WaitRange(0, 5))

    async def book(self, info: CallInfo, queued: QueuedCall, number: str,
                   language: str) -> bool:  # fmt: skip
        raise NotImplementedError


def controller(config: ClinicConfig, desk: Desk, *, everywhere: bool,
               ultrasound: bool | None = None) -> Controller:  # fmt: skip
    overrides = {"ultrasound": CallbackOverride(announce_wait=ultrasound)}
    callbacks = config.callbacks.model_copy(update={
        "enabled": True, "announce_wait": everywhere, "queues": overrides})
    return Controller(config.model_copy(update={"callbacks": callbacks}),
                      cast(Engine, cast(Any, object())), offers=desk, now=lambda: MONDAY_10)


async def test_the_queues_policy_decides_and_the_desks_place_is_said(
        config: ClinicConfig) -> None:  # fmt: skip
    for everywhere, ultrasound, said in ((False, True, True), (True, False, False),
                                         (True, None, True), (False, None, False)):
        desk, port = Desk(), FakePort(TO_ULTRASOUND)
        await controller(config, desk, everywhere=everywhere,
                         ultrasound=ultrasound).ivr_session(port)  # fmt: skip
        assert desk.asked == ([("c1", "ultrasound", 0)] if said else [])
        assert ("clinicall/uk/wait_0_5" in port.played) is said
        assert [r.queue for r in port.enqueued] == ["ultrasound"]


async def test_a_failing_desk_costs_the_words_not_the_queue(config: ClinicConfig) -> None:
    desk, port = Desk(fails=True), FakePort(TO_ULTRASOUND)
    await controller(config, desk, everywhere=True).ivr_session(port)
    assert desk.asked == [("c1", "ultrasound", 0)]
    assert "clinicall/uk/wait_0_5" not in port.played
    assert [r.queue for r in port.enqueued] == ["ultrasound"]


async def test_a_desk_slower_than_the_deadline_costs_the_words_not_the_queue(
        config: ClinicConfig) -> None:  # fmt: skip
    desk, port = Desk(hangs=True), FakePort(TO_ULTRASOUND)
    service = controller(config, desk, everywhere=True)
    service.join_place_deadline_s = 0.05
    await asyncio.wait_for(service.ivr_session(port), 5)
    assert "clinicall/uk/wait_0_5" not in port.played
    assert [r.queue for r in port.enqueued] == ["ultrasound"]
