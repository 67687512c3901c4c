"""The post-call survey in the IVR: the consent before the queue and the two questions after."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clinicall.calltypes import SurveyOutcome
from clinicall.ivr import prompts
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan, PlanError
from clinicall.ivr.prompts import catalog
from clinicall.ivr.survey import run_survey
from clinicall.settings.models import ClinicConfig, SurveyMode

from .ivr_fakes import ENGLISH_NUMBER, HANGUP, TIMEOUT, FakePort

MONDAY_10 = datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Europe/Kyiv"))
ULTRASOUND = ["1", "1"]  # from the English number: appointments, ultrasound


def surveyed(config: ClinicConfig, mode: SurveyMode, queue: str = "ultrasound") -> ClinicConfig:
    queues = dict(config.queues)
    queues[queue] = queues[queue].model_copy(update={"survey": mode})
    return config.model_copy(update={"queues": queues})


async def enter_queue(config: ClinicConfig, keys: list[str]) -> tuple[FakePort, IvrPlan]:
    plan = IvrPlan.compile(config)
    port = FakePort(keys, dialled=ENGLISH_NUMBER)
    outcome = await run_ivr(port, config, now=lambda: MONDAY_10, plan=plan)
    assert outcome.outcome == "queue"
    assert outcome.request == port.enqueued[0]
    return port, plan


@pytest.mark.parametrize(("key", "agreed"), [("1", True), ("2", False), (TIMEOUT, False)])
async def test_ask_puts_the_question_before_the_queue(
    config: ClinicConfig, key: str, agreed: bool
) -> None:
    port, _ = await enter_queue(surveyed(config, "ask"), [*ULTRASOUND, key])
    assert port.collects[-1] == ["clinicall/en/survey_offer"]
    assert port.calls[-2] == ("play", ("clinicall/en/queue_ultrasound",))  # announced after
    (request,) = port.enqueued
    assert request.survey is agreed
    assert request.path == f"main:1/appointments:1/survey:{key or '-'}"


async def test_always_and_off_ask_nothing(config: ClinicConfig) -> None:
    always, _ = await enter_queue(surveyed(config, "always"), ULTRASOUND)
    off, _ = await enter_queue(config, ULTRASOUND)
    for port, survey in ((always, True), (off, False)):
        assert "clinicall/en/survey_offer" not in port.played
        assert port.enqueued[0].survey is survey
        assert port.enqueued[0].path == "main:1/appointments:1"


async def test_only_the_queues_that_ask_ask(config: ClinicConfig) -> None:
    port, _ = await enter_queue(surveyed(config, "ask", queue="gynecology"), ULTRASOUND)
    assert "clinicall/en/survey_offer" not in port.played
    assert port.enqueued[0].survey is False


def test_survey_prompts_exist_only_when_a_queue_surveys(config: ClinicConfig) -> None:
    keys = {p.key for p in catalog(config)}
    assert not keys & {"survey_offer", "survey_csat", "survey_nps", "survey_thanks"}
    pairs = {(p.language, p.key) for p in catalog(surveyed(config, "ask"))}
    for language in ("uk", "ru", "en"):
        for key in ("survey_offer", "survey_csat", "survey_nps", "survey_thanks"):
            assert (language, key) in pairs


async def test_a_patient_answers_4_then_1_0(config: ClinicConfig) -> None:
    plan = IvrPlan.compile(surveyed(config, "ask"))
    port = FakePort(["4", "10"])
    outcome = await run_survey(port, plan, language="ru")
    assert outcome == SurveyOutcome(csat=4, nps=10, complete=True)
    assert port.collects == [["clinicall/ru/survey_csat"], ["clinicall/ru/survey_nps"]]
    collects = [arg for name, arg in port.calls if name == "collect"]
    assert [(c[1], c[2]) for c in collects if isinstance(c, tuple)] == [
        ("0123456789#", 1), ("0123456789#", 2),  # digits allowed, at most 1 / 2 keys
    ]
    assert port.played[-1] == "clinicall/ru/survey_thanks"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (["5", "9#"], SurveyOutcome(5, 9, True)),  # '#' ends a one-digit NPS
        (["1", "0"], SurveyOutcome(1, 0, True)),
        ([TIMEOUT], SurveyOutcome(None, None, False)),  # silence: nothing more is asked
        (["#"], SurveyOutcome(None, None, False)),  # '#' alone ends the survey
        (["3", TIMEOUT], SurveyOutcome(3, None, False)),
        (["3", HANGUP], SurveyOutcome(3, None, False)),  # hung up: the partial answer stays
        ([HANGUP], SurveyOutcome(None, None, False)),
        (["0", "2", "11", "7"], SurveyOutcome(2, 7, True)),  # out of range: asked once more
        (["9", "6"], SurveyOutcome(None, None, False)),  # wrong twice: the survey ends
    ],
)
async def test_answers_ends_and_wrong_keys(
    config: ClinicConfig, script: list[str], expected: SurveyOutcome
) -> None:
    plan = IvrPlan.compile(surveyed(config, "always"))
    port = FakePort(script)
    assert await run_survey(port, plan, language="en") == expected
    assert ("clinicall/en/survey_thanks" in port.played) is expected.complete


async def test_a_wrong_answer_is_asked_again_with_invalid_in_front(config: ClinicConfig) -> None:
    plan = IvrPlan.compile(surveyed(config, "always"))
    port = FakePort(["8", "4", "10"])
    await run_survey(port, plan, language="uk")
    assert port.collects[1] == ["clinicall/uk/invalid", "clinicall/uk/survey_csat"]


async def test_an_unknown_language_falls_back_to_the_default(config: ClinicConfig) -> None:
    plan = IvrPlan.compile(surveyed(config, "always"))
    port = FakePort(["4", "10"])
    await run_survey(port, plan, language="")
    assert port.collects[0] == ["clinicall/uk/survey_csat"]


def test_a_plan_without_the_survey_prompts_is_refused(
    config: ClinicConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert IvrPlan.compile(surveyed(config, "ask")).surveys == {"ultrasound": "ask"}
    monkeypatch.setattr(prompts, "survey_enabled", lambda config: False)
    with pytest.raises(PlanError, match="survey_offer"):
        IvrPlan.compile(surveyed(config, "ask"))
