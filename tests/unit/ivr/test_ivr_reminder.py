"""The appointment reminder call in the IVR: who, what and when in the patient's language,
then 1 confirms, 2 cancels, 0 goes to the specialty's queue; silence and wrong keys repeat."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clinicall.ivr import prompts
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.reminder import ReminderCall, run_reminder
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import HANGUP, TIMEOUT, FakePort

KYIV = ZoneInfo("Europe/Kyiv")
CALL = ReminderCall("ru", "petrenko", "ultrasound", datetime(2026, 12, 5, 9, 30, tzinfo=KYIV))


@pytest.fixture(scope="module")
def reminding(config: ClinicConfig) -> ClinicConfig:
    return config.model_copy(update={"reminders": config.reminders.model_copy(
        update={"enabled": True})})


@pytest.fixture(scope="module")
def rplan(reminding: ClinicConfig) -> IvrPlan:
    return IvrPlan.compile(reminding)


def name(key: str, language: str = "ru") -> str:
    return prompts.prompt_name(language, key)


@pytest.mark.parametrize(("key", "answer", "last"), [
    ("1", "confirmed", prompts.REMINDER_CONFIRMED), ("2", "cancelled", prompts.REMINDER_CANCELLED)])
async def test_the_appointment_is_announced_then_answered(
    reminding: ClinicConfig, rplan: IvrPlan, key: str, answer: str, last: str
) -> None:
    port = FakePort([key])
    assert await run_reminder(port, rplan, reminding, CALL) == answer
    assert port.calls[:6] == [
        ("set_language", "ru"),
        ("play", (name("reminder_doctor_petrenko"), name("reminder_route_ultrasound"),
                  name(prompts.REMINDER_ON))),
        ("say_number", 5),
        ("play", (name("month_12"), name(prompts.REMINDER_AT))),
        ("say_number", 9),
        ("say_number", 30),
    ]
    assert port.collects == [[name(prompts.REMINDER_KEYS)]]
    assert port.calls[-1] == ("play", (name(last),))
    assert port.enqueued == []


async def test_zero_puts_the_patient_into_the_specialtys_queue(
    reminding: ClinicConfig, rplan: IvrPlan
) -> None:
    port = FakePort(["0"])
    assert await run_reminder(port, rplan, reminding, CALL) == "operator"
    [request] = port.enqueued
    assert (request.queue, request.route, request.language, request.path) == (
        "ultrasound", "ultrasound", "ru", "reminder:0")


async def test_silence_and_wrong_keys_repeat_then_the_call_ends(
    reminding: ClinicConfig, rplan: IvrPlan
) -> None:
    port = FakePort([TIMEOUT, "7", TIMEOUT])
    assert await run_reminder(port, rplan, reminding, CALL) == "no_input"
    plays = [arg for kind, arg in port.calls if kind == "play"]
    firsts = [p[0] for p in plays if isinstance(p, tuple) and p]
    assert name(prompts.NO_INPUT) in firsts
    assert name(prompts.INVALID) in firsts
    assert port.calls[-1] == ("play", (name(prompts.GOODBYE),))
    assert len(port.collects) == 3


async def test_a_hang_up_is_an_answer_of_its_own(reminding: ClinicConfig, rplan: IvrPlan,
                                                 ) -> None:  # fmt: skip
    assert await run_reminder(FakePort([HANGUP]), rplan, reminding, CALL) == "hangup"


def test_the_prompts_are_in_the_catalog_only_when_reminders_are_on(
    config: ClinicConfig, reminding: ClinicConfig
) -> None:
    off = {p.key for p in prompts.catalog(config)}
    on = [p for p in prompts.catalog(reminding) if p.language == "uk"]
    assert "reminder_keys" not in off
    texts = {p.key: p.text for p in on}
    assert texts["month_12"] == "грудня"
    assert "Олена Петренко" in texts["reminder_doctor_petrenko"]
