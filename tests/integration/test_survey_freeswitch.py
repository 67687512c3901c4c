"""The post-call survey on the real FreeSWITCH 1.10.12, through ``clinicall.app.running``: a
patient chooses gynecology (its survey: always), an operator answers and hangs up, the
generated dialplan hands the caller back to the controller over a second outbound socket, and
the patient answers both questions; the answers are in the store with the queue, operator and
route (the Asterisk counterpart: test_survey.py).  Ultrasound asks for consent in the IVR: a
patient who agrees is surveyed, one who declines is not; ``#`` on the second question, silence,
or hanging up during it keep only what was answered, as on Asterisk."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinicall.app import Running, running
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.db.models import Call, SurveyAnswer
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.freeswitch import SIM, CallObserver, CallTrace, operators_answer

from .freeswitch_common import ENGLISH_NUMBER, FREESWITCH_EXAMPLE, FreeswitchFactory
from .scenario import Clock

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

CSAT = "clinicall/en/survey_csat"
NPS = "clinicall/en/survey_nps"
THANKS = "clinicall/en/survey_thanks"
OFFER = "clinicall/en/survey_offer"
ULTRASOUND_AGREES = "111"  # main: appointments, ultrasound; the survey offer: 1 (yes)
ULTRASOUND_DECLINES = "112"


def _config() -> ClinicConfig:
    config = load_config(FREESWITCH_EXAMPLE)
    queues = dict(config.queues)
    queues["gynecology"] = queues["gynecology"].model_copy(update={"survey": "always"})
    queues["ultrasound"] = queues["ultrasound"].model_copy(update={"survey": "ask"})
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    return config.model_copy(update={"queues": queues, "ivr": ivr})


async def test_after_the_operator_hangs_up_the_patient_answers_the_survey(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    fs, config = make_freeswitch(_config(), name="survey", **SIM)
    cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    async with fs:
        engine = config.engine.model_copy(update={"cdr_dir": str(fs.log_dir / "cdr-csv")})
        config = config.model_copy(update={"engine": engine})
        await build_prompts(prompt_texts(config), fs.sounds_dir, cache_dir=cache)
        await operators_answer(fs, config, {"op102"})  # gynecology's operator
        async with CallObserver(fs) as observer, running(config, db_url=db_url,
                                                         now=Clock()) as parts:
            assert isinstance(parts.engine, FreeswitchEngine)
            await parts.engine.wait_up(10)
            # appointments, gynecology; then the survey: CSAT 4, NPS 9
            trace = await observer.call(config, "+380501238001", "1249",
                                        number=ENGLISH_NUMBER)  # fmt: skip
            await observer.finished(trace, 90)
            await asyncio.wait_for(parts.controller.wait_surveyed(1), 10)
            await parts.controller.writes_done()
            assert trace.queues_joined == ["gynecology"]
            assert trace.agents_answered == ["op102"]
            assert trace.prompts[-3:] == [CSAT, NPS, THANKS]
            async with parts.sessions() as session:
                rows: list[tuple[Any, ...]] = [tuple(r) for r in await session.execute(
                    select(SurveyAnswer.question, SurveyAnswer.score, SurveyAnswer.queue,
                           SurveyAnswer.operator, SurveyAnswer.route, SurveyAnswer.complete)
                    .join(Call, Call.id == SurveyAnswer.call_id)
                    .where(Call.call_key == trace.clinic_leg)
                    .order_by(SurveyAnswer.question))]  # fmt: skip
            assert rows == [("csat", 4, "gynecology", "op102", "gynecology", True),
                            ("nps", 9, "gynecology", "op102", "gynecology", True)]


@dataclass
class SurveyClinic:
    config: ClinicConfig
    parts: Running
    observer: CallObserver

    async def answers(self, trace: CallTrace) -> list[tuple[Any, ...]]:
        await self.parts.controller.writes_done()
        async with self.parts.sessions() as session:
            return [tuple(r) for r in await session.execute(
                select(SurveyAnswer.question, SurveyAnswer.score, SurveyAnswer.queue,
                       SurveyAnswer.operator, SurveyAnswer.route, SurveyAnswer.complete)
                .join(Call, Call.id == SurveyAnswer.call_id)
                .where(Call.call_key == trace.clinic_leg)
                .order_by(SurveyAnswer.question))]  # fmt: skip


@asynccontextmanager
async def survey_clinic(make_freeswitch: FreeswitchFactory, tmp_path: Path,
                        name: str) -> AsyncIterator[SurveyClinic]:  # fmt: skip
    """FreeSWITCH with the clinic and every operator answering, and ``running``."""
    fs, config = make_freeswitch(_config(), name=name, **SIM)
    cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    async with fs:
        engine = config.engine.model_copy(update={"cdr_dir": str(fs.log_dir / "cdr-csv")})
        config = config.model_copy(update={"engine": engine})
        await build_prompts(prompt_texts(config), fs.sounds_dir, cache_dir=cache)
        await operators_answer(fs, config)
        async with CallObserver(fs) as observer, running(config, db_url=db_url,
                                                         now=Clock()) as parts:  # fmt: skip
            assert isinstance(parts.engine, FreeswitchEngine)
            await parts.engine.wait_up(10)
            yield SurveyClinic(config, parts, observer)


async def _surveyed(c: SurveyClinic, caller: str, digits: str) -> CallTrace:
    """An ultrasound patient who agreed and pressed ``digits`` after the consent, once the
    call and its survey ended."""
    trace = await c.observer.call(c.config, caller, ULTRASOUND_AGREES + digits,
                                  number=ENGLISH_NUMBER)  # fmt: skip
    await c.observer.finished(trace, 90)
    await asyncio.wait_for(c.parts.controller.wait_surveyed(1), 10)
    assert trace.queues_joined == ["ultrasound"]
    assert len(trace.agents_answered) == 1
    return trace


async def test_a_patient_who_agreed_is_surveyed_and_hash_leaves_a_partial_answer(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:  # fmt: skip
    async with survey_clinic(make_freeswitch, tmp_path, "survey-ask") as c:
        trace = await _surveyed(c, "+380501238002", "2#")
        [operator] = trace.agents_answered
        assert trace.variable("CLINICALL_PATH") == "main:1/appointments:1/survey:1"
        assert OFFER in trace.prompts
        assert trace.prompts[-2:] == [CSAT, NPS]  # no thanks: the survey was cut short
        assert await c.answers(trace) == [
            ("csat", 2, "ultrasound", operator, "ultrasound", False)]


async def test_a_patient_who_declined_is_not_surveyed(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:  # fmt: skip
    async with survey_clinic(make_freeswitch, tmp_path, "survey-decline") as c:
        trace = await c.observer.call(c.config, "+380501238003", ULTRASOUND_DECLINES,
                                      number=ENGLISH_NUMBER)  # fmt: skip
        await c.observer.finished(trace, 90)  # ends when the operator hangs up
        assert trace.variable("CLINICALL_PATH") == "main:1/appointments:1/survey:2"
        assert OFFER in trace.prompts
        assert (trace.queues_joined, len(trace.agents_answered)) == (["ultrasound"], 1)
        assert CSAT not in trace.prompts
        assert trace.variable("CLINICALL_SURVEY") is None
        assert c.parts.controller.surveys_handled == 0
        assert await c.answers(trace) == []


async def test_silence_ends_the_survey_without_an_answer(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:  # fmt: skip
    async with survey_clinic(make_freeswitch, tmp_path, "survey-silence") as c:
        trace = await _surveyed(c, "+380501238004", "")  # nothing pressed
        assert trace.prompts[-1] == CSAT
        assert await c.answers(trace) == []


async def test_hanging_up_during_the_survey_keeps_what_was_answered(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:  # fmt: skip
    async with survey_clinic(make_freeswitch, tmp_path, "survey-hangup") as c:
        trace = await c.observer.call(c.config, "+380501238005", ULTRASOUND_AGREES + "5",
                                      number=ENGLISH_NUMBER)  # fmt: skip
        hang_ups: set[asyncio.Task[None]] = set()

        def at_menu(t: CallTrace) -> None:
            """The patient hangs up when the second question starts."""
            if t.prompts[-1:] == [NPS] and not hang_ups:
                hang_ups.add(asyncio.create_task(c.observer.hang_up(t)))

        trace.on_menu = at_menu
        await c.observer.finished(trace, 90)
        await asyncio.wait_for(c.parts.controller.wait_surveyed(1), 10)
        [hung_up] = hang_ups
        await hung_up
        [operator] = trace.agents_answered
        assert await c.answers(trace) == [
            ("csat", 5, "ultrasound", operator, "ultrasound", False)]
