"""The controller hands an answered reminder call (``CallInfo.reminder``) to the reminder flow
and stores the patient's key on the appointment; an unknown appointment is hung up."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from clinicall.controller.port import Engine
from clinicall.controller.service import Controller
from clinicall.ivr.reminder import ReminderAnswer, ReminderCall
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import FakePort

CALL = ReminderCall("en", "lysenko", "pediatrics",
                    datetime(2026, 12, 7, 15, 0, tzinfo=ZoneInfo("Europe/Kyiv")))


class Desk:
    def __init__(self) -> None:
        self.answers: list[tuple[str, ReminderAnswer]] = []

    async def reminder_call(self, appointment_id: str) -> ReminderCall | None:
        return CALL if appointment_id == "7" else None

    async def record_answer(self, appointment_id: str, answer: ReminderAnswer) -> None:
        self.answers.append((appointment_id, answer))


def reminder_port(appointment: str, keys: list[str]) -> FakePort:
    port = FakePort(keys)
    port._info = replace(port.info, reminder=appointment)
    return port


def controller(config: ClinicConfig, desk: Desk) -> Controller:
    reminding = config.model_copy(update={"reminders": config.reminders.model_copy(
        update={"enabled": True})})
    return Controller(reminding, cast(Engine, cast(Any, object())), reminders=desk)


async def test_the_patients_key_is_stored_on_the_appointment(config: ClinicConfig) -> None:
    desk = Desk()
    service = controller(config, desk)
    port = reminder_port("7", ["1"])
    await service.ivr_session(port)
    await service.writes_done()
    assert desk.answers == [("7", "confirmed")]
    assert ("say_number", 7) in port.calls  # the 7th of December
    assert service.calls_handled == 0  # not an inbound call of the IVR


async def test_an_unknown_appointment_is_hung_up(config: ClinicConfig) -> None:
    desk = Desk()
    service = controller(config, desk)
    port = reminder_port("8", [])
    await service.ivr_session(port)
    await service.writes_done()
    assert (desk.answers, port.names()) == ([], ["hangup"])
