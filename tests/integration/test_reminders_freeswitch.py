"""Appointment reminders on the real FreeSWITCH 1.10.12: the scheduler dials the patient first
(``bgapi originate`` into the generated ``clinicall_flow`` extension), the answered call
reaches the controller's outbound socket as a reminder session, the simulated patient hears
the appointment and presses 1 (confirmed), 2 (cancelled) or 0 (put through to the specialty's
queue).  That the patient was dialled once, and what was played, is read from the test's own
Event Socket link (the Asterisk counterpart: test_reminders_asterisk.py); the account holds the
reminder as an outbound call, never as an inbound one, even when the patient waited in the
queue (docs/kpi.md)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from clinicall.controller.freeswitch.control import call_id_for
from clinicall.db.appointment_input import AppointmentInput
from clinicall.db.appointments import AppointmentStore
from clinicall.db.models import Call, Direction
from clinicall.reports.kpi import compute
from clinicall.settings import ClinicConfig

from .freeswitch_common import FreeswitchFactory
from .test_callbacks_freeswitch import _config, callback_clinic

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]


def _reminders() -> ClinicConfig:
    data = _config().model_dump(mode="json")
    data["callbacks"].update({"attempts": 1})
    data["reminders"] = {"enabled": True, "lead_h": 24, "min_notice_min": 60, "ring_s": 10}
    return ClinicConfig.model_validate(data)


@pytest.mark.parametrize(("phone", "key", "state", "result", "said"), [
    ("+380501240001", "1", "confirmed", "confirmed", "reminder_confirmed"),
    ("+380501240002", "2", "cancelled", "cancelled", "reminder_cancelled"),
    ("+380501240003", "0", "scheduled", "operator", None),
])  # fmt: skip
async def test_the_patients_key_answers_the_reminder_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path, phone: str, key: str, state: str,
        result: str, said: str | None) -> None:  # fmt: skip
    since = datetime.now(UTC)
    async with callback_clinic(make_freeswitch, tmp_path, f"reminders-{key}",
                               _reminders()) as c:  # fmt: skip
        store = AppointmentStore(c.parts.sessions)
        starts_at = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
        await store.import_rows([AppointmentInput("R-1", phone, "en", "petrenko",
                                                  "ultrasound", starts_at)],
                                datetime.now(UTC))  # fmt: skip
        presses: set[asyncio.Task[str]] = set()

        def press(uuid: str, app: str) -> None:
            """The patient presses the key when the reminder first waits for one: on their
            own leg (the loopback's other half), which FreeSWITCH hands to the clinic's leg."""
            if app != "play_and_get_digits" or presses:
                return
            if uuid != call_id_for("cb1-1"):
                return
            patient = next(u for n, ch, u in c.trail.events
                           if n == "CHANNEL_CREATE" and ch == f"loopback/{phone}-b")  # fmt: skip
            presses.add(asyncio.create_task(c.fs.api(f"uuid_send_dtmf {patient} {key}")))

        c.trail.on_execute = press
        scheduler = c.scheduler()
        claimed = await scheduler.run_once()
        await scheduler.attempts_done()
        appointment = await store.by_external_id("R-1")
        assert appointment is not None
        assert claimed == [appointment.reminder_job_id]
        job = await scheduler.store.job(claimed[0])
        assert job is not None
        assert (job.reason, job.state, job.result) == ("reminder", "done", "answered")
        [attempt] = await scheduler.store.attempts(job.id)
        call_id = call_id_for(attempt.key)
        assert call_id == call_id_for("cb1-1")
        if said is None:  # put through: the patient waits in the specialty's queue, hangs up
            await asyncio.wait_for(c.joined.wait(), 30)
            assert (await c.fs.api(f"uuid_kill {call_id}")).startswith("+OK")
        await c.trail.gone(call_id, 60)  # the flow (or the patient) ended the call
        [pressed] = presses
        assert (await pressed).startswith("+OK")
        await c.parts.controller.writes_done()
        appointment = await store.by_external_id("R-1")
        assert appointment is not None
        assert (appointment.state, appointment.reminder_result) == (state, result)
        played = " ".join(arg for uuid, _, arg in c.trail.executed if uuid == call_id)
        assert "clinicall/en/reminder_doctor_petrenko" in played
        if said is not None:
            assert f"clinicall/en/{said}" in played
        else:
            queued = [arg for uuid, app, arg in c.trail.executed
                      if uuid == call_id and app == "callcenter"]  # fmt: skip
            assert queued == ["ultrasound@clinicall"]
        patient_legs = [u for n, ch, u in c.trail.events
                        if n == "CHANNEL_CREATE" and ch == f"loopback/{phone}-a"]
        assert patient_legs == [call_id]  # dialled once
        assert await scheduler.run_once() == []  # answered: never dialled again

        # the account: one outbound reminder call to the patient, no inbound call
        await asyncio.wait_for(c.closed.setdefault(call_id, asyncio.Event()).wait(), 10)
        await c.parts.tracker.flush()
        async with c.parts.sessions() as session:
            calls = list(await session.scalars(select(Call)))
            report = await compute(session, start=since, config=c.config,
                                   end=datetime.now(UTC) + timedelta(hours=1))  # fmt: skip
        assert [(r.call_key, r.direction, r.purpose, r.missed, r.dialled) for r in calls] == [
            (call_id, Direction.OUTBOUND, "reminder", False, phone)]
        # no inbound call to count, no queue stay of an inbound call (the patient who
        # pressed 0 waited in the queue all the same)
        assert report.section("calls").rows == []
        [queue] = report.section("queues").rows
        assert (queue["offered"], queue["abandoned"], queue["answered"]) == (0, 0, 0)
