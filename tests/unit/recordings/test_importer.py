"""The importer on real files (ffmpeg-made tones) and a real SQLite store: what it computes,
that a re-run changes nothing, what it sweeps, and that a kill -9 mid-transcode is finished
by the next run with no duplicate row and no orphan file."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydub import AudioSegment
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db import create_engine, session_factory
from clinicall.db.models import Call, Direction, Recording
from clinicall.db.writer import StoreWriter
from clinicall.recordings.importer import LOCK_FILE, SETTLE_S, Importer
from clinicall.recordings.storage import Spool, Storage

from .spool_files import DAY, STARTED, add_row, engine_recording, tone

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def sessions(sqlite_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_db_url)
    yield session_factory(engine)
    await engine.dispose()


def importer(sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
             sweep_after_s: float = 3600) -> Importer:
    return Importer(sessions, Storage(tmp_path / "store"), Spool(tmp_path / "spool"),
                    sweep_after_s=sweep_after_s)


def stored_files(tmp_path: Path) -> list[str]:
    root = tmp_path / "store"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.name != LOCK_FILE)  # .partial/ counts: no orphan there


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[Recording]:
    async with sessions() as session:
        return list(await session.scalars(select(Recording).order_by(Recording.id)))


async def test_import_moves_measures_and_transcodes_once(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    relative = engine_recording(spool, "1764840000.7", seconds=2.0)
    source_size = (spool / relative).stat().st_size
    rid = await add_row(sessions, relative, "1764840000.7")

    progress: list[tuple[int, int]] = []
    report = await importer(sessions, tmp_path).run(lambda d, t: progress.append((d, t)))

    assert (report.imported, report.missing, report.failed) == (1, [], {})
    assert progress == [(1, 1)]
    (row,) = await rows(sessions)
    assert row.id == rid
    assert row.spool_path == relative
    assert row.path == f"{DAY}/{rid}.orig.ogg"
    assert row.transcode_path == f"{DAY}/{rid}.play.opus"
    assert row.size_bytes == source_size
    assert len(row.sha256) == 64
    assert row.duration_s is not None
    assert abs(row.duration_s - 2.0) < 0.05
    assert row.channels == 2
    assert row.peaks is not None
    assert [len(c) for c in row.peaks] == [800, 800]
    assert min(min(c) for c in row.peaks) > 0  # a tone all along, on both sides
    assert stored_files(tmp_path) == sorted([row.path, row.transcode_path])
    assert list(spool.rglob("*.ogg")) == []  # all three engine files taken
    played = AudioSegment.from_file(tmp_path / "store" / row.transcode_path)
    assert played.channels == 2
    assert abs(played.duration_seconds - 2.0) < 0.1

    again = await importer(sessions, tmp_path).run()
    assert (again.imported, again.leftover, again.swept) == (0, 0, 0)
    (same,) = await rows(sessions)
    assert (same.path, same.sha256, same.imported_at) == (row.path, row.sha256, row.imported_at)


async def test_a_row_without_its_file_is_reported_and_kept(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    rid = await add_row(sessions, f"{DAY}/1764840000.8.ogg", "1764840000.8")
    report = await importer(sessions, tmp_path).run()
    assert (report.imported, report.missing) == (0, [rid])
    (row,) = await rows(sessions)
    assert row.sha256 == ""


async def test_a_broken_file_is_reported_and_does_not_stop_the_others(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    broken = f"{DAY}/1764840000.9.ogg"
    (spool / DAY).mkdir(parents=True)
    (spool / broken).write_bytes(b"OggS not really" * 100)
    bad = await add_row(sessions, broken, "1764840000.9")
    good = await add_row(sessions, engine_recording(spool, "1764840001.1"), "1764840001.1")
    report = await importer(sessions, tmp_path).run()
    assert report.imported == 1
    assert list(report.failed) == [bad]
    assert (spool / broken).exists()
    by_id = {r.id: r for r in await rows(sessions)}
    assert by_id[bad].sha256 == ""
    assert by_id[good].sha256 != ""


async def test_sweep_removes_old_empty_files_only(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    old_empty = tone(spool / DAY / "1764840002.1.ogg", 0, 0.001)
    fresh_empty = tone(spool / DAY / "1764840002.2.ogg", 0, 0.001)
    unclaimed = tone(spool / DAY / "1764840002.3.ogg", 440, 1.0)
    other = spool / "not-ours.txt"
    other.write_text("left alone")
    hour_ago = old_empty.stat().st_mtime - 7200
    for path in (old_empty, unclaimed):
        os.utime(path, (hour_ago, hour_ago))

    report = await importer(sessions, tmp_path).run()

    assert (report.swept, report.unclaimed) == (1, 2)  # the fresh one and the one with audio
    assert not old_empty.exists()
    assert fresh_empty.exists()
    assert unclaimed.exists()
    assert other.exists()


async def test_spool_file_left_by_a_crash_after_the_commit_is_removed(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    relative = engine_recording(spool, "1764840003.1")
    await add_row(sessions, relative, "1764840003.1")
    await importer(sessions, tmp_path).run()
    engine_recording(spool, "1764840003.1")  # as if the unlink had not happened
    report = await importer(sessions, tmp_path).run()
    assert (report.imported, report.leftover) == (0, 3)
    assert list(spool.rglob("*.ogg")) == []
    assert len(await rows(sessions)) == 1


#: A child that imports with a transcode that writes half a file, says so and hangs: the
#: parent kills it with SIGKILL at exactly that point.
CHILD = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from clinicall.db import create_engine, session_factory
    from clinicall.recordings import media
    from clinicall.recordings.importer import Importer
    from clinicall.recordings.storage import Spool, Storage

    def stuck_export(audio, target, fmt):
        target.write_bytes(b"OggS half a transcode")
        print("transcoding", flush=True)
        import time
        while True:
            time.sleep(3600)

    media.export = stuck_export
    url, tmp = sys.argv[1], Path(sys.argv[2])
    async def main():
        engine = create_engine(url)
        await Importer(session_factory(engine), Storage(tmp / "store"), Spool(tmp / "spool")).run()
    asyncio.run(main())
""")


async def test_kill_9_mid_transcode_then_rerun_finishes_without_duplicates_or_orphans(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, sqlite_db_url: str
) -> None:
    spool = tmp_path / "spool"
    relative = engine_recording(spool, "1764840004.1")
    await add_row(sessions, relative, "1764840004.1")
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, sqlite_db_url, str(tmp_path), cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
    assert line == b"transcoding\n"
    child.send_signal(signal.SIGKILL)
    assert await child.wait() == -signal.SIGKILL
    assert (tmp_path / "store" / ".partial").is_dir()  # it died with work in progress
    (before,) = await rows(sessions)
    assert before.sha256 == ""

    report = await importer(sessions, tmp_path).run()

    assert report.imported == 1
    (row,) = await rows(sessions)
    assert row.sha256 != ""
    assert row.transcode_path is not None
    assert stored_files(tmp_path) == sorted([row.path, row.transcode_path])  # no orphan
    assert AudioSegment.from_file(tmp_path / "store" / row.transcode_path).channels == 2
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Recording)) == 1


async def test_a_second_import_pass_is_refused_while_one_runs(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    from clinicall.recordings.importer import LOCK_FILE, ImportRunning

    (tmp_path / "store").mkdir()
    held = os.open(tmp_path / "store" / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as another process's pass
        with pytest.raises(ImportRunning):
            await importer(sessions, tmp_path).run()
    finally:
        os.close(held)
    report = await importer(sessions, tmp_path).run()  # the lock went with its holder
    assert report.imported == 0


async def test_a_call_still_in_progress_is_left_for_the_next_run(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The account writes the row when the call is answered; the engine writes the file until
    hangup.  Until the call has ended (and SETTLE_S after), the row is not taken."""
    relative = engine_recording(tmp_path / "spool", "1764840003.3")
    rid = await add_row(sessions, relative, "1764840003.3")
    async with sessions() as session, session.begin(), StoreWriter(session):
        call = Call(call_key="1764840003.3", direction=Direction.INBOUND, started_at=STARTED)
        session.add(call)
        await session.flush()
        (await session.get_one(Recording, rid)).call_id = call.id
        call_id = call.id
    ended = STARTED + timedelta(seconds=30)
    clock = [ended]
    run = Importer(sessions, Storage(tmp_path / "store"), Spool(tmp_path / "spool"),
                   now=lambda: clock[0])

    talking = await run.run()
    async with sessions() as session, session.begin(), StoreWriter(session):
        (await session.get_one(Call, call_id)).ended_at = ended
    just_ended = await run.run()
    clock[0] = ended + timedelta(seconds=SETTLE_S + 0.1)
    settled = await run.run()

    assert (talking.in_progress, talking.imported) == (1, 0)
    assert (just_ended.in_progress, just_ended.imported) == (1, 0)
    assert (settled.in_progress, settled.imported) == (0, 1)
    assert (tmp_path / "spool" / relative).exists() is False
