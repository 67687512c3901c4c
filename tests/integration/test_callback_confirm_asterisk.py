"""The callback call's confirm key on the real Asterisk 22 (``callbacks.confirm_key: "1"``;
docs/callbacks.md, "The callback call"): a patient who presses 1 while greeted is put through
to the operator; one who answers and presses nothing, as an answering machine does, is asked
twice, then not put through: the callback event says ``NOANSWER``, both legs end, queue_log
holds no ``CLINICALLCB`` answer for that call, and the try counts.  What Asterisk did is read
from its own events (the tracer's AMI stream) and queue_log.

The FreeSWITCH counterpart: test_callbacks_freeswitch.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.app import Running
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.callbacks import CallbackScheduler
from clinicall.controller.port import CALLBACK_ANSWERED
from clinicall.ivr import prompts
from clinicall.simclinic.clinic import SimulatedClinic

from .offer_common import OPERATOR, dial_one_due, driven_scheduler, offer_config, queue_log

pytestmark = pytest.mark.asyncio(loop_scope="module")
#: The tests drive their own callback scheduler (conftest.py's ``app``).
OWN_SCHEDULER = True

#: The operator stays on longer than the whisper, the greeting and both questions.
TALK_S = 45
#: The patient who confirms presses 1 a second after answering, then every 2.25 s (a key
#: that comes before the greeting listens is lost: the next one is heard).
CONFIRMING_KEYS = "1wwww1wwww1"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    config = offer_config(confirm_key="1", attempts=2)
    async with SimulatedClinic.run(config, root=asterisk_root, name="confirm") as clinic:
        yield clinic


@pytest.fixture(scope="module")
def scheduler(app: Running) -> CallbackScheduler:
    return driven_scheduler(app)


@pytest.mark.timeout(240)
async def test_with_a_confirm_key_only_the_patient_who_presses_it_is_put_through(
    clinic: SimulatedClinic, app: Running, scheduler: CallbackScheduler
) -> None:
    await clinic.set_operator(OPERATOR, "answer", ring_s=1, talk_s=TALK_S)
    confirming, machine = "+380507000001", "+380501000001"  # add_due_jobs' numbers
    await clinic.ami.action("Setvar", {"Variable": "SIM_KEYS_" + confirming.removeprefix("+"),
                                       "Value": CONFIRMING_KEYS})
    lang = clinic.config.default_language  # the jobs know no language of the patient's
    greeting, asked = (prompts.prompt_name(lang, k) for k in (prompts.CALLBACK_GREETING,
                                                              prompts.CALLBACK_CONFIRM))
    results: list[tuple[str | None, str | None, int, int]] = []
    for job_id, first, number in ((1, 7_000_001, confirming), (2, 1_000_001, machine)):
        attempt, trace = await dial_one_due(clinic, app, scheduler, job_id, first)
        job = next(j for j in await scheduler.store.jobs() if j.id == job_id)
        assert job.phone == number
        statuses = [m.get("Status") for m in trace.named("UserEvent")
                    if m.get("UserEvent") == "ClinicallCallback"]  # fmt: skip
        assert greeting in trace.prompts_played
        results.append((attempt.outcome, statuses[0], job.attempts,
                        trace.prompts_played.count(asked)))
    assert [r[:3] for r in results] == [("answered", "ANSWER", 1), ("no_answer", "NOANSWER", 1)]
    # the one who pressed (in the greeting, or at the first question) was not asked again;
    # the one who never did was asked twice
    assert results[0][3] <= 1
    assert results[1][3] == 2
    # the engine's durable record: only the confirmed call was answered
    answered = [f[5] for f in queue_log(clinic)
                if len(f) > 6 and f[4] == "CLINICALLCB" and f[6] == "ANSWER"]  # fmt: skip
    assert answered == [call_id_for("cb1-1")]
    await app.tracker.reconcile()
    record = await scheduler.store.call_record(call_id_for("cb2-1"))
    assert record is None or CALLBACK_ANSWERED not in record.outcomes
