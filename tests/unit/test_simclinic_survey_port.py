"""The simulated patient and the post-call survey: the consent asked before the queue, then the
real survey flow on the handed-back call, answered with the patient's drawn scores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicall.calltypes import CallInfo
from clinicall.ivr import prompts
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.survey import run_survey
from clinicall.settings.loader import load_config
from clinicall.simclinic.day import Afterwards, SimPatient
from clinicall.simclinic.patient_port import PatientPort
from clinicall.simclinic.survey_port import CSAT, NPS, SurveyPort, SurveyTruth
from clinicall.simclinic.virtual_port import PROMPT_S

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
BASE = load_config(EXAMPLE)
CONFIG = BASE.model_copy(update={"queues": {
    qid: q.model_copy(update={"survey": "ask" if qid == "therapy" else "off"})
    for qid, q in BASE.queues.items()}})  # fmt: skip
PLAN = IvrPlan.compile(CONFIG)
INFO = CallInfo(call_id="c1", channel_id="c1", caller_number="+380671111111", caller_name="",
                dialled_number="+380441234568", engine="simulated")  # English, no language menu
TUESDAY_10_KYIV = datetime(2026, 11, 24, 8, tzinfo=UTC)
QUESTIONS = {PLAN.names[lang][key]: question for lang in PLAN.languages
             for key, question in ((prompts.SURVEY_CSAT, CSAT), (prompts.SURVEY_NPS, NPS))}


def patient(keys: str, later: Afterwards) -> SimPatient:
    return SimPatient(index=0, arrival=TUESDAY_10_KYIV, caller=INFO.caller_number,
                      dialled=INFO.dialled_number, topic="t", keys=keys,
                      think_s=(1.0,) * len(keys), hangs_up_in_ivr=False, patience_s=60.0,
                      handle_s=60.0, afterwards=later)  # fmt: skip


@pytest.mark.parametrize(("agrees", "keys", "step"), [
    (True, "14", "survey:1"),  # therapy asks: the patient presses 1
    (False, "14", "survey:-"),  # ... or stays silent (the question times out)
    (True, "11", None),  # ultrasound does not ask
])  # fmt: skip
async def test_asked_before_the_queue_a_patient_agrees_or_stays_silent(
    agrees: bool, keys: str, step: str | None,
) -> None:
    offer = frozenset(names[prompts.SURVEY_OFFER] for names in PLAN.names.values())
    port = PatientPort(patient(keys, Afterwards(agrees_to_survey=agrees, survey_think_s=2.0)),
                       INFO, survey_offer=offer)  # fmt: skip
    outcome = await run_ivr(port, CONFIG, now=lambda: TUESDAY_10_KYIV, plan=PLAN)
    assert port.request is not None
    assert port.request.survey is (step == "survey:1")
    assert outcome.path.endswith(f"/{step}") if step else "survey" not in outcome.path


@pytest.mark.parametrize(("later", "keyed", "complete"), [
    (Afterwards(csat=4, nps=10), {CSAT: 4, NPS: 10}, True),
    (Afterwards(csat=2, nps=0), {CSAT: 2, NPS: 0}, True),
    (Afterwards(csat=5, nps=7, survey_hangs_up_at=NPS), {CSAT: 5}, False),
    (Afterwards(csat=5, nps=7, survey_hangs_up_at=CSAT), {}, False),
])  # fmt: skip
async def test_the_real_survey_flow_stores_what_the_patient_keyed(
    later: Afterwards, keyed: dict[str, int], complete: bool,
) -> None:
    port = SurveyPort(INFO, later, QUESTIONS)
    outcome = await run_survey(port, PLAN, language="en")
    assert port.keyed == keyed
    assert (outcome.csat, outcome.nps, outcome.complete) == (keyed.get(CSAT), keyed.get(NPS),
                                                              complete)  # fmt: skip
    truth = SurveyTruth("c1", "therapy", "therapy-op1", keyed.get(CSAT), keyed.get(NPS))
    assert (truth.answered, truth.complete) == (bool(keyed), complete)


async def test_a_one_digit_score_waits_for_the_digit_timeout_and_ten_does_not() -> None:
    ten = SurveyPort(INFO, Afterwards(csat=5, nps=10, survey_think_s=1.0), QUESTIONS)
    seven = SurveyPort(INFO, Afterwards(csat=5, nps=7, survey_think_s=1.0), QUESTIONS)
    await run_survey(ten, PLAN, language="en")
    await run_survey(seven, PLAN, language="en")
    # the CSAT is one key of one (no wait); the thanks is one prompt
    assert ten.elapsed_s == pytest.approx(1.0 + 1.0 + PROMPT_S)
    assert seven.elapsed_s == pytest.approx(ten.elapsed_s + PLAN.digit_timeout_s)
