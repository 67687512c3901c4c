"""The outbound route on the real Asterisk 22 (docs/outbound.md): a callback goes out through
the configured trunk to the provider (provider.py, a SIP server on loopback, which challenges
every INVITE), the number in the provider's format (``national``: ``0…``), the trunk's account
in From and the clinic's caller id in P-Asserted-Identity; the patient who answers is greeted
and put through to the operator, and the call ends at the provider when the operator hangs
up.  A busy number is stored as ``busy``, as Asterisk's ``Dial()`` of the patient reported
it.  A reminder, patient first, goes the same way: the patient who answers hears the
appointment, and the call ends at the provider.

The FreeSWITCH counterpart: test_callbacks_freeswitch.py (the trunk test).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.app import Running, utc_now
from clinicall.controller.asterisk.control import call_id_for
from clinicall.controller.callbacks import CallbackScheduler
from clinicall.db.appointment_input import AppointmentInput
from clinicall.db.appointments import AppointmentStore
from clinicall.ivr import prompts
from clinicall.sandbox.ports import free_ports
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.clinic import SimulatedClinic

from .offer_common import OPERATOR, dial_one_due, driven_scheduler, offer_config
from .provider import Provider

pytestmark = pytest.mark.asyncio(loop_scope="module")
#: The tests drive their own callback scheduler (conftest.py's ``app``).
OWN_SCHEDULER = True

PROVIDER_IP = "127.0.0.3"
CALLER_ID = "+380441112233"
ACCOUNT, PASSWORD = "clinic77", "trunk-secret"
TALK_S = 20
ANSWERING, BUSY = "+380507000001", "+380501000002"  # add_due_jobs' numbers 7000001, 1000002


def _config(provider_port: int) -> ClinicConfig:
    data = offer_config().model_dump(mode="json")
    data["trunks"] = [{"id": "provider", "host": f"{PROVIDER_IP}:{provider_port}",
                       "match": [f"{PROVIDER_IP}/32"], "username": ACCOUNT,
                       "password": PASSWORD}]
    data["outbound"] = {"trunk": "provider", "number_format": "national",
                        "country_code": "380", "caller_id": CALLER_ID}
    data["reminders"] = {"enabled": True, "lead_h": 24, "min_notice_min": 60, "ring_s": 10}
    return ClinicConfig.model_validate(data)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def provider() -> AsyncIterator[Provider]:
    provider = Provider(PROVIDER_IP, behaviour={"0501000002": "busy"},
                        credentials=(ACCOUNT, PASSWORD))
    [port] = free_ports(1, socket.SOCK_DGRAM)
    await provider.listen(port)
    yield provider
    provider.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path, provider: Provider) -> AsyncIterator[SimulatedClinic]:
    config = _config(provider.port)
    async with SimulatedClinic.run(config, root=asterisk_root, name="outbound") as clinic:
        yield clinic


@pytest.fixture(scope="module")
def scheduler(app: Running) -> CallbackScheduler:
    return driven_scheduler(app)


async def _call_back(scheduler: CallbackScheduler, app: Running, clinic: SimulatedClinic,
                     job_id: int, first: int) -> tuple[str | None, list[str], bool]:  # fmt: skip
    """One due job dialled once: the attempt's outcome, the patient dial's DIALSTATUS, and
    whether the patient was greeted."""
    attempt, trace = await dial_one_due(clinic, app, scheduler, job_id, first)
    dials = [m.get("DialStatus", "") for m in trace.named("DialEnd")
             if "@clinicall-originate" in m.get("DestChannel", "")]  # fmt: skip
    greeting = prompts.prompt_name(clinic.config.default_language, prompts.CALLBACK_GREETING)
    return attempt.outcome, dials, greeting in trace.prompts_played


@pytest.mark.timeout(240)
async def test_a_callback_goes_out_through_the_trunk_in_the_providers_format(
    clinic: SimulatedClinic, app: Running, scheduler: CallbackScheduler, provider: Provider
) -> None:
    await clinic.set_operator(OPERATOR, "answer", ring_s=1, talk_s=TALK_S)
    outcome, dials, greeted = await _call_back(scheduler, app, clinic, 1, 7_000_001)
    placed = await provider.next_call(10)
    assert (placed.dialled, placed.caller_id, placed.asserted_id) == (
        "0507000001", ACCOUNT, CALLER_ID)
    assert (outcome, dials, greeted) == ("answered", ["ANSWER"], True)
    await asyncio.wait_for(placed.ended.wait(), 30)  # the PBX hung up at the provider ...
    assert placed.state == "ended"  # ... after the answer was acknowledged
    # a busy patient: the provider's 486 is the attempt's outcome
    outcome, dials, greeted = await _call_back(scheduler, app, clinic, 2, 1_000_002)
    placed = await provider.next_call(10)
    assert (placed.dialled, placed.state) == ("0501000002", "busy")
    assert (outcome, dials, greeted) == ("busy", ["BUSY"], False)


@pytest.mark.timeout(180)
async def test_a_reminder_goes_out_through_the_trunk_patient_first(
    clinic: SimulatedClinic, app: Running, scheduler: CallbackScheduler, provider: Provider
) -> None:
    store = AppointmentStore(app.sessions)
    starts_at = (utc_now() + timedelta(hours=3)).replace(second=0, microsecond=0)
    await store.import_rows([AppointmentInput("R-trunk", "+380501240001", "en", "petrenko",
                                              "ultrasound", starts_at)], utc_now())
    for job_id in range(1, 6):  # the planner makes the reminder's job as the round begins
        clinic.tracer.expect(call_id_for(f"cb{job_id}-1"))
    [claimed] = await scheduler.run_once()
    await scheduler.attempts_done()
    appointment = await store.by_external_id("R-trunk")
    assert appointment is not None
    assert appointment.reminder_job_id == claimed
    key = f"cb{claimed}-1"
    placed = await provider.next_call(10)
    assert (placed.dialled, placed.asserted_id) == ("0501240001", CALLER_ID)
    job = await scheduler.store.job(claimed)
    assert job is not None
    assert (job.reason, job.state, job.result) == ("reminder", "done", "answered")
    trace = await clinic.finished(call_id_for(key), timeout=90)
    assert "clinicall/en/reminder_doctor_petrenko" in trace.prompts_played
    await asyncio.wait_for(placed.ended.wait(), 30)  # the flow ended the call at the provider
    assert placed.state == "ended"
