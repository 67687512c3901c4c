"""``clinicall run`` imports recordings by itself: a call answered on the real Asterisk 22
while ``clinicall.app.running`` is up reaches clinicall's storage (checksum, browser copy, the
spool emptied) without ``clinicall recordings import``, and the loop's health says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from clinicall.app import Running, running
from clinicall.db.models import Recording
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, TUESDAY_10_KYIV

pytestmark = pytest.mark.asyncio(loop_scope="module")

IMPORT_EVERY_S = 1
TALKER = "op102"


def _config() -> ClinicConfig:
    config = load_config(EXAMPLE)
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    return config.model_copy(update={"ivr": ivr})


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
