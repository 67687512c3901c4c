"""Retention on 2,000 generated recordings: the dry run lists exactly what the rules say, the
real run removes exactly those files, keeps the held ones, and writes tombstones and audit
rows (the chain stays intact)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.cli import main
from clinicall.db import create_engine, session_factory
from clinicall.db.models import (
    Complaint,
    ComplaintRecording,
    ComplaintState,
    Recording,
    RecordingAccess,
    RecordingHold,
)
from clinicall.recordings import retention
from clinicall.recordings.audit import AuditLog, verify
from clinicall.recordings.storage import Storage, stored_name

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
POLICY = retention.Policy({"quality": 90, "training": 365}, complaint_days_after_close=30)
N = 2000
EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"


@pytest.fixture
async def sessions(sqlite_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_db_url)
    yield session_factory(engine)
    await engine.dispose()


class Generated:
    """The set, and what the rules (restated here by hand) expect to go."""

    def __init__(self) -> None:
        self.expected_due: set[int] = set()
        self.held: set[int] = set()
        self.all: set[int] = set()


async def generate(sessions: async_sessionmaker[AsyncSession], root: Path) -> Generated:
    rng = random.Random(13)
    out = Generated()
    open_case = Complaint(summary="rude", state=ComplaintState.INVESTIGATING, opened_at=NOW,
                          due_at=NOW + timedelta(days=5))
    closed_long_ago = Complaint(summary="late", state=ComplaintState.REVIEWED, opened_at=NOW,
                                due_at=NOW, resolved_at=NOW - timedelta(days=45))
    closed_lately = Complaint(summary="lost", state=ComplaintState.RESOLVED, opened_at=NOW,
                              due_at=NOW, resolved_at=NOW - timedelta(days=10))
    async with sessions() as session, session.begin():
        session.add_all([open_case, closed_long_ago, closed_lately])
        await session.flush()
        for i in range(N):
            age = timedelta(days=rng.uniform(0, 400))
            purpose = rng.choice(["quality"] * 8 + ["training", "legacy"])
            started = NOW - age
            row = Recording(call_key=f"1764000000.{i}", path=f"pending/{i}", format="ogg",
                            size_bytes=10, sha256="a" * 64, duration_s=1.0, started_at=started,
                            imported_at=started, purpose=purpose)
            session.add(row)
            await session.flush()
            row.path = stored_name(row.id, started, "orig", "ogg")
            row.transcode_path = stored_name(row.id, started, "play", "opus")
            for name in (row.path, row.transcode_path):
                file = root / name
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(b"audio")
            out.all.add(row.id)
            if purpose == "legacy":
                continue  # the config names no such purpose: kept
            past = age > timedelta(days=POLICY.days[purpose])
            kind = rng.random()
            if kind < 0.05:
                session.add(RecordingHold(recording_id=row.id, reason="lawyer", held_at=NOW))
                out.held.add(row.id)
            elif kind < 0.08:
                session.add(RecordingHold(recording_id=row.id, reason="was", held_at=NOW,
                                          released_at=NOW))
                if past:
                    out.expected_due.add(row.id)
            elif kind < 0.12:
                session.add(ComplaintRecording(complaint_id=open_case.id, recording_id=row.id))
                out.held.add(row.id)
            elif kind < 0.15:
                session.add(ComplaintRecording(complaint_id=closed_long_ago.id,
                                               recording_id=row.id))
                if past:  # the case ended 45 days ago: past its 30 days too
                    out.expected_due.add(row.id)
            elif kind < 0.18:
                session.add(ComplaintRecording(complaint_id=closed_lately.id,
                                               recording_id=row.id))
                out.held.add(row.id)  # 10 days after resolution: still kept
            elif past:
                out.expected_due.add(row.id)
    return out


def present(root: Path, ids: set[int]) -> set[int]:
    return {int(p.name.split(".")[0]) for p in root.rglob("*.opus")} & ids


async def test_dry_run_then_real_run_on_2000_recordings(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    root = tmp_path / "store"
    made = await generate(sessions, root)
    assert 300 < len(made.expected_due) < 1500  # the set exercises both sides

    plan = await retention.plan(sessions, POLICY, NOW)
    assert {d.recording_id for d in plan.due} == made.expected_due
    assert present(root, made.all) == made.all  # the dry run touched nothing

    progress: list[tuple[int, int]] = []
    removed = await retention.apply(sessions, Storage(root), AuditLog(), plan.due, NOW,
                                    lambda d, t: progress.append((d, t)))

    assert removed == len(made.expected_due)
    assert progress[-1] == (len(made.expected_due), len(made.expected_due))
    assert present(root, made.all) == made.all - made.expected_due
    assert {int(p.name.split(".")[0]) for p in root.rglob("*.orig.ogg")} == (
        made.all - made.expected_due)
    async with sessions() as session:
        tombstones = dict((await session.execute(
            select(Recording.id, Recording.deleted_by)
            .where(Recording.deleted_at.is_not(None)))).all())  # fmt: skip
        audited = await session.scalar(select(func.count()).select_from(RecordingAccess))
    assert set(tombstones) == made.expected_due
    assert set(tombstones.values()) <= {"quality:90d", "training:365d", "complaint+30d"}
    assert audited == len(made.expected_due)
    assert (await verify(sessions)).intact
    assert not made.held & set(tombstones)

    again = await retention.plan(sessions, POLICY, NOW)
    assert again.due == []  # a second run finds nothing more


async def test_cli_dry_run_lists_and_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], sqlite_db_url: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "store"
    async with sessions() as session, session.begin():
        old = Recording(call_key="1.1", path="x", format="ogg", size_bytes=1, sha256="b" * 64,
                        started_at=datetime.now(UTC) - timedelta(days=200),
                        imported_at=datetime.now(UTC))
        session.add(old)
        await session.flush()
        old.path = stored_name(old.id, old.started_at, "orig", "ogg")
        (root / old.path).parent.mkdir(parents=True)
        (root / old.path).write_bytes(b"audio")
    config = tmp_path / "clinic.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    anchor = "  storage_dir: /var/lib/clinicall/recordings\n"
    assert anchor in text
    config.write_text(text.replace(anchor, f"  storage_dir: {root}\n"), "utf-8")
    import asyncio

    argv = ["recordings", "retention", "--config", str(config), "--db", sqlite_db_url]
    assert await asyncio.to_thread(main, [*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would delete recording {old.id} (quality:90d)" in out
    assert "dry run: 1 would be deleted" in out
    assert (root / old.path).exists()
    assert await asyncio.to_thread(main, argv) == 0
    assert "deleted 1," in capsys.readouterr().out
    assert not (root / old.path).exists()


async def test_cli_hold_keeps_a_recording_from_retention_until_released(
    sessions: async_sessionmaker[AsyncSession], sqlite_db_url: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    old_at = datetime.now(UTC) - timedelta(days=200)
    async with sessions() as session, session.begin():
        old = Recording(call_key="1.2", path="y", format="ogg", size_bytes=1, sha256="b" * 64,
                        started_at=old_at, imported_at=old_at)
        session.add(old)
        await session.flush()
        rid = old.id
    hold = ["recordings", "hold", str(rid), "--reason", "lawsuit", "--db", sqlite_db_url,
            "--config", str(EXAMPLE)]
    release = ["recordings", "release", str(rid), "--reason", "settled", "--db",
               sqlite_db_url, "--config", str(EXAMPLE)]

    listing = ["recordings", "holds", "--db", sqlite_db_url, "--config", str(EXAMPLE)]
    assert await asyncio.to_thread(main, hold) == 0
    assert f"recording {rid} held" in capsys.readouterr().out
    assert await asyncio.to_thread(main, listing) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "1 open hold(s)"
    assert lines[0].startswith(f"recording {rid} held since ")
    assert lines[0].endswith(" by command line: lawsuit")
    plan = await retention.plan(sessions, POLICY, datetime.now(UTC))
    assert rid in plan.held
    assert rid not in [item.recording_id for item in plan.due]
    assert await asyncio.to_thread(main, hold) != 0  # already held: said, nothing changed
    assert "already held" in capsys.readouterr().err
    assert await asyncio.to_thread(main, release) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, listing) == 0
    assert capsys.readouterr().out == "0 open hold(s)\n"
    plan = await retention.plan(sessions, POLICY, datetime.now(UTC))
    assert rid in [item.recording_id for item in plan.due]
    async with sessions() as session:
        actions = list(await session.scalars(select(RecordingAccess.detail)
                                             .where(RecordingAccess.recording_id == rid)
                                             .order_by(RecordingAccess.id)))
        (hold_id,) = await session.scalars(select(RecordingHold.id)
                                           .where(RecordingHold.recording_id == rid))
    assert actions == [f"hold {hold_id} set", f"hold {hold_id} released"]
    assert (await verify(sessions)).intact
