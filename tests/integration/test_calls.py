"""Patients' calls through the real Asterisk 22: IVR, triage, specialty queues, fail-open.

One sandbox Asterisk with exactly the generated config serves the whole module; the
controller runs in-process.  Every assertion is on what Asterisk reported over AMI (the queue
joined, the operator connected, the prompts it played, the variables the IVR left), never on
what clinicall believes happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.app import build_engine
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.service import Controller
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import EXAMPLE, SUNDAY_10_KYIV, TUESDAY_10_KYIV, Clock

pytestmark = pytest.mark.asyncio(loop_scope="module")



def _test_config() -> ClinicConfig:
    """The example clinic, with a shorter digit timeout so silent patients finish sooner."""
    config = load_config(EXAMPLE)
    return config.model_copy(update={"ivr": config.ivr.model_copy(update={"digit_timeout_s": 2.0})})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_test_config(), root=asterisk_root, name="calls") as clinic:
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "answer", talk_s=2)
        yield clinic


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def controller(clinic: SimulatedClinic, clock: Clock) -> AsyncIterator[Controller]:
    async with Controller(clinic.config, build_engine(clinic.config), now=clock) as controller:
        await controller.engine.wait_up(10)
        yield controller


@pytest.fixture(autouse=True)
def _open_hours(clock: Clock) -> None:
    clock.at = TUESDAY_10_KYIV


async def _call(
    clinic: SimulatedClinic, digits: str, *, hold_s: int = 30, number: str | None = None
) -> CallTrace:
    linkedid = await clinic.call(digits=digits, hold_s=hold_s, number=number)
    return await clinic.finished(linkedid, timeout=hold_s + 60)


BRANCHES = [
    # digits, language, queue, route, path
    ("1w1w1", "uk", "ultrasound", "ultrasound", "lang:1/main:1/appointments:1"),
    ("2w1w2", "ru", "gynecology", "gynecology", "lang:2/main:1/appointments:2"),
    ("3w1w3", "en", "pediatrics", "pediatrics", "lang:3/main:1/appointments:3"),
    ("1w1w4", "uk", "therapy", "therapy", "lang:1/main:1/appointments:4"),
    ("1w3", "uk", "therapy", "test_results", "lang:1/main:3"),
    ("2w4", "ru", "universal", "complaint", "lang:2/main:4"),
    ("3w0", "en", "universal", "operator", "lang:3/main:0"),
    ("1w2w0", "uk", "universal", "operator", "lang:1/main:2/information:0"),
]


@pytest.mark.parametrize(("digits", "language", "queue", "route", "path"), BRANCHES)
async def test_menu_branch_reaches_its_queue_and_an_operator_answers(
    clinic: SimulatedClinic, controller: Controller,
    digits: str, language: str, queue: str, route: str, path: str,
) -> None:
    trace = await _call(clinic, digits)
    assert trace.queues_joined == [queue]
    members = {op.id for op in clinic.config.operators if queue in op.queues}
    assert len(trace.operators_connected) == 1
    assert trace.operators_connected[0] in members
    assert trace.variable("CLINICALL_LANG") == language
    assert trace.variable("CLINICALL_PATH") == path
    assert trace.variable("CLINICALL_ROUTE") == route
    played = trace.prompts_played
    assert played[0] == "clinicall/uk/language_menu"
    assert played[-1] == f"clinicall/{language}/queue_{queue}"


async def test_dialled_number_fixes_the_language(
    clinic: SimulatedClinic, controller: Controller
) -> None:
    trace = await _call(clinic, "1w1", number="+380441234568")
    assert trace.variable("CLINICALL_LANG") == "en"
    assert trace.variable("CLINICALL_PATH") == "main:1/appointments:1"
    assert trace.queues_joined == ["ultrasound"]
    assert not any("/lang" in p for p in trace.prompts_played)


async def test_information_is_answered_without_an_operator(
    clinic: SimulatedClinic, controller: Controller
) -> None:
    trace = await _call(clinic, "3w2w3w1", hold_s=25)
    assert trace.queues_joined == []
    assert "clinicall/en/service_pelvic_ultrasound" in trace.prompts_played


async def test_wrong_keys_three_times_go_to_the_universal_queue(
    clinic: SimulatedClinic, controller: Controller
) -> None:
    trace = await _call(clinic, "1w8w8w8")
    assert trace.queues_joined == ["universal"]
    assert trace.variable("CLINICALL_PATH") == "lang:1/main:8?/main:8?/main:8?"
    assert trace.prompts_played.count("clinicall/uk/invalid") == 2
    assert len(trace.operators_connected) == 1


async def test_silence_goes_to_the_universal_queue(
    clinic: SimulatedClinic, controller: Controller
) -> None:
    # Three full menu prompts and timeouts: about a minute in the IVR before the queue.
    trace = await _call(clinic, "", hold_s=100)
    assert trace.queues_joined == ["universal"]
    assert trace.variable("CLINICALL_LANG") == "uk"  # the default language
    assert trace.variable("CLINICALL_PATH") == "lang:-/main:-/main:-/main:-"
    played = trace.prompts_played
    # Nobody pressed a key, so everything was heard: the emergency notice before the menu.
    assert played.index("clinicall/uk/emergency") < played.index("clinicall/uk/menu_main")
    assert played.count("clinicall/uk/no_input") == 2


async def test_hangup_mid_menu_ends_the_session_cleanly(
    clinic: SimulatedClinic, controller: Controller, caplog: pytest.LogCaptureFixture
) -> None:
    handled = controller.calls_handled
    with caplog.at_level(logging.INFO):
        trace = await _call(clinic, "1", hold_s=4)
        async with asyncio.timeout(5):  # the session ends right after Asterisk's HANGUP line
            await controller.wait_handled(handled + 1)
    assert controller.calls_handled == handled + 1
    assert trace.queues_joined == []
    lines = [r for r in caplog.records if trace.linkedid in r.getMessage()]
    assert [r.levelno for r in lines] == [logging.INFO]
    assert "hangup" in lines[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_after_hours_the_hours_are_announced_and_no_queue_is_entered(
    clinic: SimulatedClinic, controller: Controller, clock: Clock
) -> None:
    clock.at = SUNDAY_10_KYIV
    trace = await _call(clinic, "1", hold_s=40)
    assert trace.queues_joined == []
    assert "clinicall/uk/closed" in trace.prompts_played


async def test_with_the_controller_down_the_dialplan_still_queues_the_patient(
    clinic: SimulatedClinic, controller: Controller
) -> None:
    engine = controller.engine
    assert isinstance(engine, AsteriskEngine)
    assert engine.agi is not None
    await engine.agi.close()  # last test of the module: the FastAGI port now refuses
    trace = await _call(clinic, "1w1w1")
    assert trace.queues_joined == ["universal"]
    assert trace.variable("CLINICALL_OUTCOME") == "fallback"
    assert len(trace.operators_connected) == 1
