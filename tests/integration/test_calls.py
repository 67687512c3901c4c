"""Patients' calls through the real Asterisk 22: IVR, triage, specialty queues.

One sandbox Asterisk with exactly the generated config serves the whole module; the
controller runs in-process.  Every assertion is on what Asterisk reported over AMI (the queue
joined, the operator connected, the prompts it played, the variables the IVR left), never on
what clinicall believes happened.  The scenarios that must behave the same on FreeSWITCH (the
dialled number's language, self-service, wrong keys, silence, after hours, the controller
down) are in test_both_engines.py, which runs them on both engines with the account's rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.app import build_engine
from clinicall.controller.service import Controller
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import EXAMPLE, TUESDAY_10_KYIV, Clock

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
    # digits, language, queue, route, path; the branch to each specialty queue in each
    # language is in test_both_engines.py (both engines, with the account's rows)
    ("1w3", "uk", "therapy", "test_results", "lang:1/main:3"),
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
