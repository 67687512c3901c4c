"""The post-call survey on the real Asterisk 22: consent in the IVR, Queue() option ``c``, the
two questions after the operator hung up, and the answers in the store; a queue whose survey is
``always`` surveys without asking.  And, on the same Asterisk, an operator's log-in and log-out
becoming a session in the store (the staffing report's operators present).

Patients are Local channels; they press the survey's keys when Asterisk starts the question's
prompt (the test's own AMI observer sees ``AGIExecStart``), sent from their own leg with AMI
``PlayDTMF``.  Operators answer, talk 2 s and hang up.  What was asked and played is asserted on
what Asterisk reported; the answers on the store the controller's tracker wrote.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import Running, running
from clinicall.asterisk_config.queues import SIM_OPERATORS
from clinicall.db.models import Agent, AgentSession, Call, SurveyAnswer
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, Clock

pytestmark = pytest.mark.asyncio(loop_scope="module")

CSAT = "clinicall/en/survey_csat"
NPS = "clinicall/en/survey_nps"
THANKS = "clinicall/en/survey_thanks"
OFFER = "clinicall/en/survey_offer"
ULTRASOUND_AGREES = "1w1w1"  # main: appointments, ultrasound; the survey offer: 1 (yes)
ULTRASOUND_DECLINES = "1w1w2"
GYNECOLOGY = "1w2"  # main: appointments, gynecology (its survey: always)
HOLD_S = 90  # the patient stays on the line for the whole survey unless the call ends first


def _config() -> ClinicConfig:
    """The example clinic; ultrasound asks for the survey, gynecology always surveys; a short
    digit timeout."""
    config = load_config(EXAMPLE)
    queues = dict(config.queues)
    queues["ultrasound"] = queues["ultrasound"].model_copy(update={"survey": "ask"})
    queues["gynecology"] = queues["gynecology"].model_copy(update={"survey": "always"})
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    return config.model_copy(update={"queues": queues, "ivr": ivr})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="survey") as clinic:
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "answer", talk_s=2)
        yield clinic


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(
    clinic: SimulatedClinic, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('survey') / 'survey.db'}"
    async with running(clinic.config, db_url=url, now=Clock(),
                       queue_log=clinic.asterisk.queue_log_path) as app:  # fmt: skip
        await app.engine.wait_up(10)
        yield app


async def _answers(app: Running, linkedid: str) -> list[tuple[Any, ...]]:
    """The call's survey rows once every survey so far was written."""
    await app.controller.writes_done()
    async with app.sessions() as session:
        rows = await session.execute(
            select(SurveyAnswer.question, SurveyAnswer.score, SurveyAnswer.queue,
                   SurveyAnswer.operator, SurveyAnswer.route, SurveyAnswer.complete)
            .join(Call, Call.id == SurveyAnswer.call_id)
            .where(Call.call_key == linkedid)
            .order_by(SurveyAnswer.question)
        )  # fmt: skip
        return [tuple(r) for r in rows]


async def _agreed_call(clinic: SimulatedClinic) -> tuple[str, str]:
    """A patient who agreed, answered by an operator who hung up: (linkedid, operator) once
    the survey's first question is being played."""
    linkedid = await clinic.call(digits=ULTRASOUND_AGREES, number=ENGLISH_NUMBER, hold_s=HOLD_S)
    await clinic.tracer.wait_for_prompt(linkedid, CSAT, timeout=60)
    trace = clinic.tracer.trace(linkedid)
    assert trace.queues_joined == ["ultrasound"]
    (operator,) = trace.operators_connected
    assert trace.named("AgentComplete"), "the survey starts only after the operator hung up"
    return linkedid, operator


async def _end(clinic: SimulatedClinic, app: Running, linkedid: str, surveys: int) -> CallTrace:
    trace = await clinic.finished(linkedid, timeout=60)
    await app.controller.wait_surveyed(surveys)
    return trace


async def test_a_patient_who_agreed_answers_4_and_1_0(
    clinic: SimulatedClinic, app: Running
) -> None:
    surveys = app.controller.surveys_handled
    linkedid, operator = await _agreed_call(clinic)
    await clinic.press(linkedid, "4")
    await clinic.tracer.wait_for_prompt(linkedid, NPS, timeout=30)
    await clinic.press(linkedid, "10")
    trace = await _end(clinic, app, linkedid, surveys + 1)
    assert trace.variable("CLINICALL_PATH") == "main:1/appointments:1/survey:1"
    assert trace.prompts_played[-3:] == [CSAT, NPS, THANKS]
    assert await _answers(app, linkedid) == [
        ("csat", 4, "ultrasound", operator, "ultrasound", True),
        ("nps", 10, "ultrasound", operator, "ultrasound", True),
    ]


async def test_a_patient_who_declined_is_not_asked(clinic: SimulatedClinic, app: Running) -> None:
    linkedid = await clinic.call(digits=ULTRASOUND_DECLINES, number=ENGLISH_NUMBER,
                                 hold_s=HOLD_S)  # fmt: skip
    trace = await clinic.finished(linkedid, timeout=60)  # ends when the operator hangs up
    assert trace.variable("CLINICALL_PATH") == "main:1/appointments:1/survey:2"
    assert OFFER in trace.prompts_played
    assert len(trace.operators_connected) == 1
    assert CSAT not in trace.prompts_played
    assert trace.variable("CLINICALL_SURVEY") is None
    assert await _answers(app, linkedid) == []


async def test_hash_on_the_second_question_leaves_a_partial_answer(
    clinic: SimulatedClinic, app: Running
) -> None:
    surveys = app.controller.surveys_handled
    linkedid, operator = await _agreed_call(clinic)
    await clinic.press(linkedid, "2")
    await clinic.tracer.wait_for_prompt(linkedid, NPS, timeout=30)
    await clinic.press(linkedid, "#")
    trace = await _end(clinic, app, linkedid, surveys + 1)
    assert THANKS not in trace.prompts_played
    assert await _answers(app, linkedid) == [
        ("csat", 2, "ultrasound", operator, "ultrasound", False),
    ]


async def test_silence_ends_the_survey_after_the_timeout(
    clinic: SimulatedClinic, app: Running
) -> None:
    surveys = app.controller.surveys_handled
    linkedid, _ = await _agreed_call(clinic)
    trace = await _end(clinic, app, linkedid, surveys + 1)  # nothing pressed
    assert trace.prompts_played[-1] == CSAT
    assert await _answers(app, linkedid) == []


async def test_hanging_up_during_the_survey_keeps_what_was_answered(
    clinic: SimulatedClinic, app: Running
) -> None:
    surveys = app.controller.surveys_handled
    linkedid, operator = await _agreed_call(clinic)
    await clinic.press(linkedid, "5")
    await clinic.tracer.wait_for_prompt(linkedid, NPS, timeout=30)
    await clinic.hang_up(linkedid)
    await _end(clinic, app, linkedid, surveys + 1)
    assert await _answers(app, linkedid) == [
        ("csat", 5, "ultrasound", operator, "ultrasound", False),
    ]


async def test_always_surveys_without_asking(clinic: SimulatedClinic, app: Running) -> None:
    surveys = app.controller.surveys_handled
    linkedid = await clinic.call(digits=GYNECOLOGY, number=ENGLISH_NUMBER, hold_s=HOLD_S)
    await clinic.tracer.wait_for_prompt(linkedid, CSAT, timeout=60)
    (operator,) = clinic.tracer.trace(linkedid).operators_connected
    await clinic.press(linkedid, "3")
    await clinic.tracer.wait_for_prompt(linkedid, NPS, timeout=30)
    await clinic.press(linkedid, "10")
    trace = await _end(clinic, app, linkedid, surveys + 1)
    assert trace.variable("CLINICALL_PATH") == "main:1/appointments:2"  # no consent step
    assert OFFER not in trace.prompts_played
    assert trace.prompts_played[-3:] == [CSAT, NPS, THANKS]
    assert await _answers(app, linkedid) == [
        ("csat", 3, "gynecology", operator, "gynecology", True),
        ("nps", 10, "gynecology", operator, "gynecology", True),
    ]


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands times back naive (UTC)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


#: How far time(2) (coarse clock) can trail datetime.now(): one tick, 4 ms at HZ=250; 50 ms
#: covers every kernel configuration.
COARSE_CLOCK_LAG = timedelta(milliseconds=50)

async def test_an_operator_logging_in_and_out_leaves_a_session(
    clinic: SimulatedClinic, app: Running
) -> None:
    """QueueAdd and QueueRemove, as the operator's desk sends them: Asterisk logs ADDMEMBER and
    REMOVEMEMBER before it acknowledges, so the record read after the acks holds both."""
    control, member = app.engine.control, f"Local/op_session@{SIM_OPERATORS}/n"
    before = datetime.now(UTC)
    await control.queue_member_add("pediatrics", member, name="op_session")
    await control.queue_member_remove("pediatrics", member)
    await app.tracker.reconcile()
    async with app.sessions() as session:
        rows = (await session.execute(
            select(AgentSession.queue, AgentSession.login_at, AgentSession.logout_at)
            .join(Agent, Agent.id == AgentSession.agent_id)
            .where(Agent.interface == "op_session"))).all()  # fmt: skip
    ((queue, logged_in, logged_out),) = rows
    login, logout = _aware(logged_in), _aware(logged_out)
    assert queue == "pediatrics"
    assert login is not None
    assert logout is not None
    # queue_log times are whole seconds of time(2), which reads the kernel's coarse clock: it can
    # lag the fine one Python reads by a clock tick (seen: 15:49:03 logged at 15:49:04.0016)
    earliest = (before - COARSE_CLOCK_LAG).replace(microsecond=0)
    assert earliest <= login <= logout <= datetime.now(UTC)
