"""Every answered call is recorded by the real Asterisk 22, and the store points at the file.

Ground truth is what Asterisk reported to the test's own AMI observer (the operator who
answered, the talk time in AgentComplete, MIXMONITOR_FILENAME) and the file itself, decoded
with ffprobe; the account is what clinicall's tracker wrote to the store.

An unanswered call: MixMonitor already runs while the patient waits (it starts before
``Queue()``), but with option ``b`` it writes audio only while bridged, so the file it leaves
holds no audio.  The projector gives no recording to a call that no operator answered, so such
a call gets no ``recordings`` row; the empty file stays in the spool for the import step to
sweep.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
import pytest_asyncio
from pydub import AudioSegment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.app import build_engine
from clinicall.asterisk_config import simulation
from clinicall.controller.asterisk.record import QueueLogRecord
from clinicall.controller.asterisk.recording_layout import parse_recording_path
from clinicall.controller.service import Controller
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.db import create_engine, session_factory, upgrade
from clinicall.db.models import Call, QueueAttempt, Recording
from clinicall.recordings.importer import SETTLE_S, Importer
from clinicall.recordings.storage import Spool, Storage
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, TUESDAY_10_KYIV

pytestmark = [pytest.mark.asyncio(loop_scope="module")]

TALK_TOLERANCE_S = 1.5
NO_AUDIO_S = 0.1


def _config() -> ClinicConfig:
    config = load_config(EXAMPLE)
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    return config.model_copy(update={"ivr": ivr})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="recordings") as clinic:
        yield clinic


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sessions(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('recordings') / 'store.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tracker(
    clinic: SimulatedClinic, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[CallTracker]:
    tracker = CallTracker(
        sessions, QueueLogRecord(clinic.asterisk.queue_log_path),
        TrackingConfig.from_clinic(clinic.config),
    )
    await tracker.start()
    yield tracker
    await tracker.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def controller(clinic: SimulatedClinic, tracker: CallTracker) -> AsyncIterator[Controller]:
    engine = build_engine(clinic.config)
    async with Controller(clinic.config, engine, account=tracker,
                          now=lambda: TUESDAY_10_KYIV) as ctl:
        await engine.wait_up(10)
        yield ctl


def monitor_dir(clinic: SimulatedClinic) -> Path:
    """The sandbox's ``<astspooldir>/monitor`` as this host sees it (``recordings.spool_dir``)."""
    layout = clinic.asterisk.layout
    return layout.host(layout.dir("spool")) / "monitor"


async def audio_seconds(path: Path) -> float:
    """The duration ffprobe decodes from the file (fails the test if it is not audio)."""
    ffprobe = shutil.which("ffprobe")
    assert ffprobe, "ffprobe (ffmpeg) is needed to decode the recordings"
    proc = await asyncio.create_subprocess_exec(
        ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries",
        "stream=codec_type:format=duration", "-of", "default=noprint_wrappers=1", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode(errors="replace")
    fields = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
    assert fields.get("codec_type") == "audio", out.decode()
    return float(fields["duration"])


async def recordings_of(
    sessions: async_sessionmaker[AsyncSession], linkedid: str
) -> list[tuple[Recording, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Recording, Call.call_key)
            .outerjoin(Call, Call.id == Recording.call_id)
            .where(Recording.call_key == linkedid)
        )
        return [(r, str(call)) for r, call in rows]


TALKER = "op102"
TALK_S = 4


async def test_answered_call_is_recorded_and_unanswered_call_is_not(
    clinic: SimulatedClinic,
    controller: Controller,
    tracker: CallTracker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await clinic.set_operator(TALKER, "answer", talk_s=TALK_S)  # gynecology
    await clinic.set_operator("op103", "noanswer")  # pediatrics' only operator
    answered = await clinic.call(digits="1w2", number=ENGLISH_NUMBER, hold_s=40)
    abandoned = await clinic.call(digits="1w3", number=ENGLISH_NUMBER, hold_s=60)
    await clinic.hang_up_after_join(abandoned, 3)
    traces = {lid: await clinic.finished(lid, timeout=90) for lid in (answered, abandoned)}
    await tracker.reconcile()
    await tracker.flush()

    # What Asterisk did: op102 talked to the first patient; nobody to the second.
    talked = traces[answered]
    assert talked.operators_connected == [TALKER]
    assert traces[abandoned].abandoned == ["pediatrics"]
    talk_s = int(talked.named("AgentComplete")[0]["TalkTime"])
    assert talk_s >= TALK_S
    reported = talked.variable("MIXMONITOR_FILENAME")
    assert reported is not None
    name = parse_recording_path(reported)
    assert name is not None
    assert (name.linkedid, name.format) == (answered, "ogg")

    # The file: where the layout says, non-empty, audio of the talk time.
    spool = monitor_dir(clinic)
    ((row, call_linkedid),) = await recordings_of(sessions, answered)
    assert call_linkedid == answered
    assert PurePosixPath(row.path) == name.path
    assert clinic.asterisk.inner_path(spool / row.path) == reported
    assert (row.format, row.size_bytes, row.sha256, row.deleted_at) == ("ogg", 0, "", None)
    assert row.started_at is not None
    file = spool / row.path
    assert file.stat().st_size > 0
    assert abs(await audio_seconds(file) - talk_s) <= TALK_TOLERANCE_S

    # The unanswered call: MixMonitor ran, but no row claims audio for it.
    missed = traces[abandoned].variable("MIXMONITOR_FILENAME")
    missed_name = parse_recording_path(missed or "")
    assert missed_name is not None
    empty = spool / missed_name.path  # Vorbis headers only (~2.7 KB; a .wav would be 44 bytes)
    assert await audio_seconds(empty) < NO_AUDIO_S
    assert await recordings_of(sessions, abandoned) == []
    async with sessions() as session:
        call = await session.scalar(select(Call).where(Call.call_key == abandoned))
    assert call is not None
    assert (call.missed, call.answered_at) == (True, None)

    # Replaying the whole journal twice keeps exactly one row for the answered call.
    await tracker.rebuild()
    await tracker.rebuild()
    ((again, _),) = await recordings_of(sessions, answered)
    assert (again.id, again.path, again.call_id) == (row.id, row.path, row.call_id)


PATIENT_HZ = 700
OPERATOR_HZ = int(simulation.TALK_TONE)
DURATION_TOLERANCE_S = 0.2
HZ_TOLERANCE = 5.0


def bridged_s(trace: CallTrace, linkedid: str) -> float:
    """How long the patient's channel was bridged to the operator (BridgeEnter → BridgeLeave,
    by the events' Timestamp headers: manager.conf ``timestampevents``)."""
    (enter,) = [m for m in trace.named("BridgeEnter") if m.get("Uniqueid") == linkedid]
    (leave,) = [m for m in trace.named("BridgeLeave") if m.get("Uniqueid") == linkedid]
    return float(leave["Timestamp"]) - float(enter["Timestamp"])


def dominant_hz(samples: np.ndarray, rate: int) -> tuple[float, float]:
    """The strongest frequency of ``samples`` and its share of the spectrum's energy."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    peak = int(np.argmax(spectrum[1:])) + 1
    share = float(spectrum[peak - 2:peak + 3].sum() / spectrum.sum())
    return peak * rate / len(samples), share


async def test_import_gives_each_side_its_own_channel_and_the_talk_time(
    clinic: SimulatedClinic,
    controller: Controller,
    tracker: CallTracker,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """The patient plays 700 Hz, the operator 440 Hz: after the import, the stereo copy holds
    one tone per channel, and the recording lasts the talk time the account holds."""
    await clinic.set_operator(TALKER, "answer", talk_s=TALK_S)
    linkedid = await clinic.call(digits="1w2", number=ENGLISH_NUMBER, hold_s=40,
                                 tone_hz=PATIENT_HZ)
    trace = await clinic.finished(linkedid, timeout=90)
    await tracker.reconcile()
    await tracker.flush()
    ((row, _),) = await recordings_of(sessions, linkedid)
    async with sessions() as session:
        talk_s = await session.scalar(
            select(QueueAttempt.talk_s).join(Call, Call.id == QueueAttempt.call_id)
            .where(Call.call_key == linkedid, QueueAttempt.talk_s.is_not(None)))  # fmt: skip
    assert talk_s is not None

    # the test saw Asterisk end the call (MixMonitor closed its files): no settling time
    settled = lambda: datetime.now(UTC) + timedelta(seconds=SETTLE_S)  # noqa: E731
    importer = Importer(sessions, Storage(tmp_path / "store"), Spool(monitor_dir(clinic)),
                        now=settled)
    report = await importer.run()

    assert row.id not in report.failed
    assert row.id not in report.missing
    ((done, _),) = await recordings_of(sessions, linkedid)
    assert done.sha256 != ""
    assert done.transcode_path is not None
    assert done.channels == 2
    assert done.duration_s is not None
    # The account's talk time is Asterisk's TalkTime: whole seconds, from second-truncated
    # clocks (docs/engines/asterisk.md), so it bounds the recording only to a second; the
    # bridged time itself, from the AMI events' own Timestamp headers, to 0.2 s.
    assert talk_s - 1 < done.duration_s < talk_s + 1, (done.duration_s, talk_s)
    assert abs(done.duration_s - bridged_s(trace, linkedid)) <= DURATION_TOLERANCE_S, (
        done.duration_s, bridged_s(trace, linkedid))
    assert not (monitor_dir(clinic) / row.path).exists()

    audio = AudioSegment.from_file(tmp_path / "store" / done.transcode_path)
    assert audio.channels == 2
    frames = np.array(audio.get_array_of_samples(), dtype=np.float64).reshape(-1, 2)
    middle = frames[len(frames) // 4: 3 * len(frames) // 4]  # past the operator's beep
    (left_hz, left_share), (right_hz, right_share) = (
        dominant_hz(middle[:, side], audio.frame_rate) for side in (0, 1))
    assert abs(left_hz - PATIENT_HZ) <= HZ_TOLERANCE, left_hz
    assert abs(right_hz - OPERATOR_HZ) <= HZ_TOLERANCE, right_hz
    assert left_share > 0.5, left_share  # the tone dominates its channel: no cross-talk
    assert right_share > 0.5, right_share
