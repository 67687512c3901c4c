"""The post-call survey on the real FreeSWITCH 1.10.12, through ``clinicall.app.running``: a
patient chooses gynecology (its survey: always), an operator answers and hangs up, the
generated dialplan hands the caller back to the controller over a second outbound socket, and
the patient answers both questions; the answers are in the store with the queue, operator and
route (the Asterisk counterpart: test_survey.py)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinicall.app import running
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.db.models import Call, SurveyAnswer
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.freeswitch import SIM, CallObserver, operators_answer

from .freeswitch_common import ENGLISH_NUMBER, FREESWITCH_EXAMPLE, FreeswitchFactory
from .scenario import Clock

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

CSAT = "clinicall/en/survey_csat"
NPS = "clinicall/en/survey_nps"
THANKS = "clinicall/en/survey_thanks"


def _config() -> ClinicConfig:
    config = load_config(FREESWITCH_EXAMPLE)
    queues = dict(config.queues)
    queues["gynecology"] = queues["gynecology"].model_copy(update={"survey": "always"})
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
