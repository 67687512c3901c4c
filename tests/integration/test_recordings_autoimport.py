"""``clinicall run`` on the real Asterisk 22, through ``clinicall.app.running``:

- it imports recordings by itself: an answered call reaches clinicall's storage (checksum,
  browser copy, the spool emptied) without ``clinicall recordings import``, and the loop's
  health says so;
- the IVR's complaint route takes a voice message: the patient (a Local channel playing a
  tone) presses 4, then 1, speaks after the beep; the case exists, linked to the call, with
  the message as its recording, and the imported message holds the patient's tone (numpy)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from pydub import AudioSegment
from sqlalchemy import select

from clinicall.app import Running, running
from clinicall.db.models import Call, Complaint, ComplaintRecording, IvrOutcome, Recording
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig, ComplaintMessage
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, TUESDAY_10_KYIV

pytestmark = pytest.mark.asyncio(loop_scope="module")

IMPORT_EVERY_S = 1
TALKER = "op102"


MESSAGE_MAX_S = 5
PATIENT_HZ = 700
HZ_TOLERANCE = 5.0


def _config() -> ClinicConfig:
    config = load_config(EXAMPLE)
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    complaints = config.complaints.model_copy(update={
        "voice_message": ComplaintMessage(max_s=MESSAGE_MAX_S, silence_s=3)})
    return config.model_copy(update={"ivr": ivr, "complaints": complaints})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="autoimport") as clinic:
        yield clinic


def monitor_dir(clinic: SimulatedClinic) -> Path:
    layout = clinic.asterisk.layout
    return layout.host(layout.dir("spool")) / "monitor"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(clinic: SimulatedClinic, tmp_path_factory: pytest.TempPathFactory,
              ) -> AsyncIterator[Running]:  # fmt: skip
    work = tmp_path_factory.mktemp("autoimport")
    # Debian's asterisk package installs the monitor spool; the sandbox's Asterisk makes it
    # at its first MixMonitor, and running() starts the importer only where the spool is.
    monitor_dir(clinic).mkdir(parents=True, exist_ok=True)
    recordings = clinic.config.recordings.model_copy(update={
        "spool_dir": str(monitor_dir(clinic)), "storage_dir": str(work / "store"),
        "import_every_s": IMPORT_EVERY_S})
    config = clinic.config.model_copy(update={"recordings": recordings})
    async with running(config, db_url=f"sqlite+aiosqlite:///{work / 'clinicall.db'}",
                       queue_log=clinic.asterisk.queue_log_path,
                       now=lambda: TUESDAY_10_KYIV) as parts:
        await parts.engine.wait_up(10)
        yield parts


async def test_an_answered_call_is_imported_while_running(
    clinic: SimulatedClinic, app: Running
) -> None:
    loop = app.recordings_import
    assert loop is not None, "recordings.import_every_s is set: running() must start it"
    await clinic.set_operator(TALKER, "answer", talk_s=3)
    linkedid = await clinic.call(digits="1w2", number=ENGLISH_NUMBER, hold_s=40)
    await clinic.finished(linkedid, timeout=90)
    await app.tracker.reconcile()
    await app.tracker.flush()
    async with app.sessions() as session:
        (spool_path,) = await session.scalars(
            select(Recording.path).where(Recording.call_key == linkedid))

    # No manual import: the loop's own passes take it (each pass is awaited, no sleep).
    async with asyncio.timeout(60):
        while True:
            async with app.sessions() as session:
                row = await session.scalar(select(Recording)
                                           .where(Recording.call_key == linkedid))
            assert row is not None
            if row.sha256:
                break
            await loop.next_pass()

    assert row.spool_path == spool_path
    assert row.transcode_path is not None
    assert (Path(app_storage(app)) / row.transcode_path).is_file()
    assert not (monitor_dir(clinic) / spool_path).exists()
    assert loop.health.imported_total >= 1
    assert loop.health.last_imported_at is not None
    assert loop.health.failed_files == 0


def app_storage(app: Running) -> str:
    return app.controller.config.recordings.storage_dir


async def test_a_complaint_left_as_a_voice_message_opens_a_case(
    clinic: SimulatedClinic, app: Running
) -> None:
    loop = app.recordings_import
    assert loop is not None
    # 4: complaint; 1 (two seconds later, during the offer): leave a message.  The patient
    # plays 700 Hz all along; the message ends at its time limit, nothing is pressed at the
    # confirmation (kept), the IVR thanks and hangs up.
    linkedid = await clinic.call(digits="4wwww1", number=ENGLISH_NUMBER, hold_s=60,
                                 tone_hz=PATIENT_HZ)
    trace = await clinic.finished(linkedid, timeout=90)
    await app.tracker.reconcile()
    await app.tracker.flush()
    assert not trace.named("QueueCallerJoin"), "the patient must not have been queued"
    async with app.sessions() as session:
        call = await session.scalar(select(Call).where(Call.call_key == linkedid))
    assert call is not None
    assert (call.ivr_path, call.route, call.ivr_outcome) == (
        "main:4/complaint:1/message:-", "complaint", IvrOutcome.SELF_SERVED)
    await app.controller.writes_done()

    async with app.sessions() as session:
        case = await session.scalar(select(Complaint).order_by(Complaint.id.desc()))
        assert case is not None
        (recording_id,) = await session.scalars(
            select(ComplaintRecording.recording_id)
            .where(ComplaintRecording.complaint_id == case.id))
    assert case.topic == "complaint"
    assert case.call_id is not None

    async with asyncio.timeout(60):  # the loop imports it (each pass awaited, no sleep)
        while True:
            async with app.sessions() as session:
                row = await session.get_one(Recording, recording_id)
            if row.sha256:
                break
            await loop.next_pass()
    assert row.call_key == linkedid
    assert row.call_id == case.call_id
    assert row.duration_s is not None
    assert MESSAGE_MAX_S - 1.0 <= row.duration_s <= MESSAGE_MAX_S + 0.5, row.duration_s
    assert row.transcode_path is not None
    audio = AudioSegment.from_file(Path(app_storage(app)) / row.transcode_path)
    samples = np.array(audio.split_to_mono()[0].get_array_of_samples(), dtype=np.float64)
    middle = samples[len(samples) // 4: 3 * len(samples) // 4]
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle)))) ** 2
    peak = int(np.argmax(spectrum[1:])) + 1
    assert abs(peak * audio.frame_rate / len(middle) - PATIENT_HZ) <= HZ_TOLERANCE
    assert spectrum[peak - 2:peak + 3].sum() / spectrum.sum() > 0.5  # the tone dominates
