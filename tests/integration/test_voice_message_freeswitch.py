"""The complaint route's voice message on the real FreeSWITCH 1.10.12, through
``clinicall.app.running``: the patient (a loopback call whose own leg plays a tone all along)
presses 4 (complaint), then 1 (leave a message), speaks after the beep until the time limit,
says nothing at the confirmation (kept); FreeSWITCH's ``record`` wrote the file into its
recording spool with the limit's length, the account holds the call as self-served on the
complaint route, and a complaint case exists, linked to the call, with the message as its
recording; ``clinicall run``'s importer takes the message from FreeSWITCH's spool by itself
(checksum, browser copy, the spool emptied) and the imported message holds the patient's tone
(the Asterisk counterpart: test_recordings_autoimport.py)."""

from __future__ import annotations

import asyncio
import math
import os
import uuid
import wave
from pathlib import Path

import numpy as np
import pytest
from pydub import AudioSegment
from sqlalchemy import select

from clinicall.app import VoiceComplaints, running
from clinicall.controller.facts import ChannelClosed, Fact
from clinicall.controller.freeswitch.engine import FreeswitchEngine
from clinicall.db.models import Call, Complaint, ComplaintRecording, IvrOutcome, Recording
from clinicall.ivr.voice_message import message_name
from clinicall.prompt_build import build_prompts, prompt_texts
from clinicall.recordings.voice_complaints import SUMMARY
from clinicall.sandbox.rootfs import default_cache_dir
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.models import ComplaintMessage
from clinicall.simclinic.freeswitch import SIM, CallObserver, CallTrace

from .freeswitch_common import ENGLISH_NUMBER, FREESWITCH_EXAMPLE, FreeswitchFactory
from .scenario import Clock

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

MESSAGE_MAX_S = 5
#: The patient's voice: a tone on their own leg, loud enough to be above the silence level,
#: one unbroken minute of it (longer than any message; ``endless_playback`` would repeat it,
#: ``;loops=-1`` would end the originate's application argument).  A one-second tone repeated
#: was restarted with a gap each second on a loaded machine, and those gaps' sidebands took up
#: to 60 % of the recording's energy from the tone's own bins.
PATIENT_HZ = 700
PATIENT_TONE = f"tone_stream://%(60000,0,{PATIENT_HZ})"
HZ_TOLERANCE = 5.0


def _config() -> ClinicConfig:
    config = load_config(FREESWITCH_EXAMPLE)
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    complaints = config.complaints.model_copy(update={
        "voice_message": ComplaintMessage(max_s=MESSAGE_MAX_S, silence_s=3)})  # fmt: skip
    return config.model_copy(update={"ivr": ivr, "complaints": complaints})


async def speaking_patient(observer: CallObserver, config: ClinicConfig, caller: str,
                           digits: str) -> CallTrace:  # fmt: skip
    """As ``CallObserver.call``, but the patient's leg plays a tone instead of parking."""
    trace = CallTrace(str(uuid.uuid4()), caller, list(digits))
    observer.calls[caller] = trace
    out = await observer.esl.bgapi(
        f"originate {{origination_uuid={trace.patient},origination_caller_id_number={caller}}}"
        f"loopback/{config.numbers[1].number}/public &endless_playback({PATIENT_TONE})", timeout=20)
    assert out.startswith("+OK"), out
    return trace


async def test_a_complaint_left_as_a_voice_message_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    fs, config = make_freeswitch(_config(), name="message", **SIM)
    assert config.numbers[1].number == ENGLISH_NUMBER
    cache = Path(os.environ.get("CLINICALL_CACHE") or default_cache_dir()) / "prompts"
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'clinicall.db'}"
    closed: dict[str, asyncio.Event] = {}

    def on_fact(fact: Fact) -> None:
        if isinstance(fact, ChannelClosed):
            closed.setdefault(fact.channel_id, asyncio.Event()).set()

    async with fs:
        engine = config.engine.model_copy(update={"cdr_dir": str(fs.log_dir / "cdr-csv"),
                                                  "recordings_dir": str(fs.recordings_dir)})
        storage = tmp_path / "store"
        recordings = config.recordings.model_copy(update={
            "spool_dir": str(fs.recordings_dir), "storage_dir": str(storage),
            "import_every_s": 1})  # fmt: skip
        config = config.model_copy(update={"engine": engine, "recordings": recordings})
        await build_prompts(prompt_texts(config), fs.sounds_dir, cache_dir=cache)
        async with CallObserver(fs) as observer, running(config, db_url=db_url,
                                                         now=Clock()) as parts:
            assert isinstance(parts.engine, FreeswitchEngine)
            parts.engine.subscribe(on_fact)
            await parts.engine.wait_up(10)
            trace = await speaking_patient(observer, config, "+380501237001", "41")
            await observer.finished(trace, 60)
            await asyncio.wait_for(closed.setdefault(trace.clinic_leg,
                                                     asyncio.Event()).wait(), 10)
            await asyncio.wait_for(trace.destroyed.wait(), 10)  # its CDR line is written
            await asyncio.wait_for(parts.controller.wait_handled(1), 10)
            await parts.tracker.reconcile()
            await parts.tracker.flush()
            await parts.controller.writes_done()
            assert trace.queues_joined == []  # the patient was not queued
            assert trace.waits_for_keys == 3, trace.prompts  # menu, offer, confirmation

            # FreeSWITCH wrote the message into its recording spool, as long as the limit
            # (its ``record`` counts whole seconds: within the last second before it, its
            # start included: a loaded machine's CI run recorded exactly 4.0 s of a 5 s limit)
            name = message_name(trace.clinic_leg)
            message = fs.recordings_dir / f"{name}.wav"
            with wave.open(str(message)) as wav:
                seconds = wav.getnframes() / wav.getframerate()
            assert MESSAGE_MAX_S - 1.0 <= seconds <= MESSAGE_MAX_S + 0.1, seconds

            async with parts.sessions() as session:
                call = await session.scalar(select(Call).where(
                    Call.call_key == trace.clinic_leg))  # fmt: skip
                assert call is not None
                assert (call.ivr_path, call.route, call.ivr_outcome) == (
                    "main:4/complaint:1/message:-", "complaint", IvrOutcome.SELF_SERVED)
                case = await session.scalar(select(Complaint))
                assert case is not None
                assert (case.topic, case.call_id) == ("complaint", call.id)
                (recording_id,) = await session.scalars(
                    select(ComplaintRecording.recording_id)
                    .where(ComplaintRecording.complaint_id == case.id))  # fmt: skip
                row = await session.get_one(Recording, recording_id)
                rows = list(await session.scalars(select(Recording)))
            assert rows == [row]  # one file, one row (the call was never answered)
            # the case says the length FreeSWITCH measured (record_ms), whole seconds
            assert case.summary in {SUMMARY.format(seconds=s)
                                    for s in (math.floor(seconds), math.ceil(seconds))}
            # the message's row, waiting for the importer (which takes it by this path)
            assert (row.path, row.call_key, row.call_id) == (f"{name}.wav", trace.clinic_leg,
                                                             call.id)
            messages = parts.controller.messages
            assert isinstance(messages, VoiceComplaints)
            assert [(m.case_id, m.recording_id) for m in messages.opened] == [
                (case.id, recording_id)]

            # the importer takes it from FreeSWITCH's spool by itself (each pass awaited)
            loop = parts.recordings_import
            assert loop is not None, "recordings.import_every_s is set: running() starts it"
            async with asyncio.timeout(60):
                while True:
                    async with parts.sessions() as session:
                        row = await session.get_one(Recording, recording_id)
                    if row.sha256:
                        break
                    await loop.next_pass()
            assert row.duration_s is not None
            assert MESSAGE_MAX_S - 1.0 <= row.duration_s <= MESSAGE_MAX_S + 0.5, row.duration_s
            assert row.transcode_path is not None
            assert not message.exists()  # the spool emptied
            assert loop.health.failed_files == 0
            audio = AudioSegment.from_file(storage / row.transcode_path)
            samples = np.array(audio.split_to_mono()[0].get_array_of_samples(),
                               dtype=np.float64)  # fmt: skip
            middle = samples[len(samples) // 4: 3 * len(samples) // 4]
            spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle)))) ** 2
            peak = int(np.argmax(spectrum[1:])) + 1
            assert abs(peak * audio.frame_rate / len(middle) - PATIENT_HZ) <= HZ_TOLERANCE
            assert spectrum[peak - 2:peak + 3].sum() / spectrum.sum() > 0.5  # the tone
