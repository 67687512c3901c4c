"""The importer on its period (recordings.import_loop) on real files and a real SQLite store:
a recording the account writes is imported without anyone asking, in the loop's own worker
thread; a broken file and a pass that cannot run are counted; close() stops the task; the
health reaches /metrics."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from pydub import AudioSegment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db import create_engine, session_factory
from clinicall.db.models import Recording
from clinicall.recordings import media
from clinicall.recordings.import_loop import ImportHealth, ImportLoop
from clinicall.recordings.importer import LOCK_FILE, Importer, _take_lock
from clinicall.recordings.storage import Spool, Storage
from clinicall.web.recordings_metrics import ImportHealthCollector

from .spool_files import DAY, add_row, engine_recording

HOUR = 3600.0


@pytest.fixture
async def sessions(sqlite_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_db_url)
    yield session_factory(engine)
    await engine.dispose()


def loop_for(sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
             every_s: float = HOUR) -> ImportLoop:
    def make(executor: Executor) -> Importer:
        return Importer(sessions, Storage(tmp_path / "store"), Spool(tmp_path / "spool"),
                        executor=executor)

    return ImportLoop.for_importer(make, every_s=every_s)


async def imported(sessions: async_sessionmaker[AsyncSession], rid: int) -> Recording:
    async with sessions() as session:
        row = await session.scalar(select(Recording).where(Recording.id == rid))
    assert row is not None
    return row


async def test_a_new_recording_is_imported_on_the_next_pass_in_the_worker(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    decode = media.decode

    def watched(path: Path) -> AudioSegment:
        threads.append(threading.current_thread().name)
        return decode(path)

    monkeypatch.setattr(media, "decode", watched)
    loop = loop_for(sessions, tmp_path)
    await loop.start()
    try:
        await loop.next_pass()  # the first pass at start: nothing to do yet
        assert (loop.health.pending, loop.health.imported_total) == (0, 0)
        assert loop.health.last_pass_at is not None
        assert (loop.health.last_imported_at,) == (None,)
        rid = await add_row(sessions, engine_recording(tmp_path / "spool", "1764840000.9"),
                            "1764840000.9")
        passed = asyncio.create_task(loop.next_pass())
        loop.wake()
        await passed
    finally:
        await loop.close()
    row = await imported(sessions, rid)
    assert row.sha256 != ""
    assert row.path == f"{DAY}/{rid}.orig.ogg"
    assert (loop.health.pending, loop.health.imported_total, loop.health.failed_files) == (
        0, 1, 0)
    assert loop.health.last_imported_at is not None
    assert threads, "the importer decoded nothing"
    assert all(name.startswith("recordings-import") for name in threads), threads


async def test_a_broken_file_is_counted_and_stays_pending(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    broken = tmp_path / "spool" / DAY / "1764840001.1.ogg"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"OggS not really")
    await add_row(sessions, f"{DAY}/1764840001.1.ogg", "1764840001.1")
    loop = loop_for(sessions, tmp_path)
    await loop.start()
    try:
        await loop.next_pass()
    finally:
        await loop.close()
    assert (loop.health.failed_files, loop.health.pending, loop.health.imported_total) == (
        1, 1, 0)
    assert broken.exists()


async def test_a_pass_that_cannot_take_the_lock_is_counted_and_retried(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    rid = await add_row(sessions, engine_recording(tmp_path / "spool", "1764840002.2"),
                        "1764840002.2")
    held = _take_lock(Storage(tmp_path / "store"))  # another import (the CLI) is running
    loop = loop_for(sessions, tmp_path)
    await loop.start()
    try:
        await loop.next_pass()
        assert (loop.health.failed_passes, loop.health.pending) == (1, 1)
        os.close(held)
        passed = asyncio.create_task(loop.next_pass())
        loop.wake()
        await passed
    finally:
        await loop.close()
    assert (await imported(sessions, rid)).sha256 != ""
    assert (loop.health.failed_passes, loop.health.pending) == (1, 0)
    assert (tmp_path / "store" / LOCK_FILE).exists()


async def test_close_ends_the_task_and_the_worker(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    loop = loop_for(sessions, tmp_path)
    await loop.start()
    await loop.next_pass()
    await loop.close()  # the loop sleeps for an hour: close must not wait for it
    assert not [t for t in threading.enumerate() if t.name.startswith("recordings-import")]


def test_the_health_is_on_metrics() -> None:
    health = ImportHealth(last_pass_at=datetime(2026, 12, 4, 9, 0, tzinfo=UTC), pending=3,
                          failed_files=2, failed_passes=1)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ImportHealthCollector(health))
    text = generate_latest(registry).decode()
    assert "clinicall_recordings_import_pending 3.0" in text
    assert 'clinicall_recordings_import_failures_total{what="file"} 2.0' in text
    assert 'clinicall_recordings_import_failures_total{what="pass"} 1.0' in text
    assert "clinicall_recordings_last_import_pass_timestamp_seconds 1.7963748e+09" in text
    assert "clinicall_recordings_last_imported_timestamp_seconds 0.0" in text
