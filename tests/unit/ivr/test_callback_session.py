"""The controller hands a callback call's leg (``CallInfo.callback``) to the whisper or the
greeting with the job the desk reads (with a confirm key, an unpressed one is told to the
engine); an unknown job, or a controller without the callbacks, says nothing and hands the leg
straight back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from clinicall.calltypes import CallbackLeg
from clinicall.controller.port import Engine
from clinicall.controller.service import CallbackDesk, Controller
from clinicall.ivr import prompts
from clinicall.ivr.callback_call import CallbackCall
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import FakePort

CALL = CallbackCall(phone="+380501234567", reason="missed", queue="therapy", language="en",
                    arrived_at=datetime(2026, 12, 5, 9, 0, tzinfo=UTC))


class Desk:
    async def callback_call(self, job_id: str) -> CallbackCall | None:
        return CALL if job_id == "3" else None


def leg_port(job: str, side: str) -> FakePort:
    port = FakePort()
    port._info = replace(port.info, callback=CallbackLeg(job, side))  # type: ignore[arg-type]
    return port


def controller(config: ClinicConfig, desk: CallbackDesk | None,
               confirm_key: str | None = None) -> Controller:  # fmt: skip
    calling = config.model_copy(update={"callbacks": config.callbacks.model_copy(
        update={"enabled": True, "confirm_key": confirm_key})})
    return Controller(calling, cast(Engine, cast(Any, object())), callbacks=desk)


async def test_the_operators_leg_hears_the_whisper(config: ClinicConfig) -> None:
    service = controller(config, Desk())
    port = leg_port("3", "operator")
    await service.ivr_session(port)
    lang = config.default_language
    assert port.played[0] == prompts.prompt_name(lang, "callback_reason_missed")
    assert service.calls_handled == 0  # not an inbound call of the IVR


async def test_the_patients_leg_hears_the_greeting(config: ClinicConfig) -> None:
    service = controller(config, Desk())
    port = leg_port("3", "patient")
    await service.ivr_session(port)
    assert port.played == [prompts.prompt_name("en", prompts.CALLBACK_GREETING)]


@pytest.mark.parametrize(("keys", "told"), [(["", ""], [("set_variable", ("CLINICALL_CONFIRMED",
                                                                           "0"))]),
                                             (["1"], [])])  # fmt: skip
async def test_a_patient_who_pressed_no_confirm_key_is_not_put_through(
        config: ClinicConfig, keys: list[str], told: list[tuple[str, object]]) -> None:
    """The engine's dialplan reads ``CLINICALL_CONFIRMED=0`` and does not bridge them."""
    service = controller(config, Desk(), confirm_key="1")
    port = leg_port("3", "patient")
    port.script = list(keys)
    await service.ivr_session(port)
    assert [c for c in port.calls if c[0] == "set_variable"] == told
    assert port.played[:2] == [prompts.prompt_name("en", k) for k in (
        prompts.CALLBACK_GREETING, prompts.CALLBACK_CONFIRM)]  # fmt: skip


@pytest.mark.parametrize(("job", "desk"), [("4", Desk()), ("3", None)])
async def test_no_job_or_no_desk_says_nothing(config: ClinicConfig, job: str,
                                              desk: Desk | None) -> None:  # fmt: skip
    service = controller(config, desk)
    port = leg_port(job, "operator")
    await service.ivr_session(port)
    assert port.calls == []  # handed back at once: the engine goes on with the call
