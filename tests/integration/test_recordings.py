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
from pathlib import Path, PurePosixPath

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.app import build_engine
from clinicall.controller.asterisk.record import QueueLogRecord
from clinicall.controller.asterisk.recording_layout import parse_recording_path
from clinicall.controller.service import Controller
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.db import create_engine, session_factory, upgrade
from clinicall.db.models import Call, Recording
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
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
