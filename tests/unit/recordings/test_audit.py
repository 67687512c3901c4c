"""The access audit's hash chain: intact as written, broken by an edit or a deletion made
behind the application's back, and never changed through the application."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.cli import main
from clinicall.db import create_engine, session_factory
from clinicall.db.models import RecordingAccess, RecordingAction
from clinicall.db.models.recordings import AuditRowChange
from clinicall.recordings.audit import GENESIS, Access, AuditLog, verify

from .spool_files import add_row

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(sqlite_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_db_url)
    yield session_factory(engine)
    await engine.dispose()


async def write_chain(sessions: async_sessionmaker[AsyncSession], n: int = 5) -> list[int]:
    rid = await add_row(sessions, "2026/11/24/1764840000.1.ogg", "1764840000.1")
    audit = AuditLog()
    ids = []
    for i in range(n):
        async with sessions() as session, session.begin():
            row = await audit.append(session, Access(rid, None, RecordingAction.PLAY,
                                                     remote_addr="10.0.0.1", reason="complaint",
                                                     listen_key=f"k{i}"), T0 + timedelta(minutes=i))
            ids.append(row.id)
    return ids


async def test_a_written_chain_is_intact_and_linked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await write_chain(sessions)
    verdict = await verify(sessions)
    assert (verdict.rows, verdict.broken) == (5, [])
    async with sessions() as session:
        rows = list(await session.scalars(select(RecordingAccess).order_by(RecordingAccess.id)))
    assert [r.id for r in rows] == ids
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))


async def test_an_edited_row_is_found(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await write_chain(sessions)
    async with sessions() as session, session.begin():  # behind the application's back
        await session.execute(text("UPDATE recording_access SET reason = 'routine' WHERE id = :i"),
                              {"i": ids[2]})
    verdict = await verify(sessions)
    assert [(b.row_id, b.problem) for b in verdict.broken] == [(ids[2], "its fields were edited")]


async def test_a_deleted_row_is_found(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await write_chain(sessions)
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM recording_access WHERE id = :i"), {"i": ids[1]})
    verdict = await verify(sessions)
    assert [b.row_id for b in verdict.broken] == [ids[2]]
    assert verdict.broken[0].problem == "the row before it was deleted or edited"


async def test_the_application_cannot_change_or_delete_a_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await write_chain(sessions, 2)
    async with sessions() as session:
        row = await session.get(RecordingAccess, ids[0])
        assert row is not None
        await session.delete(row)
        with pytest.raises(AuditRowChange):
            await session.flush()
        await session.rollback()
        row = await session.get(RecordingAccess, ids[0])
        assert row is not None
        row.reason = "nothing to see"
        with pytest.raises(AuditRowChange):
            await session.flush()
        await session.rollback()
        with pytest.raises(AuditRowChange):
            await session.execute(delete(RecordingAccess))
        with pytest.raises(AuditRowChange):
            await session.execute(update(RecordingAccess).values(reason="x"))
    assert (await verify(sessions)).rows == 2


async def test_cli_audit_verify_says_intact_or_broken(
    sessions: async_sessionmaker[AsyncSession], sqlite_db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = await write_chain(sessions, 3)
    assert await _cli("audit", "verify", "--db", sqlite_db_url) == 0
    assert "intact: 3 rows" in capsys.readouterr().out
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE recording_access SET remote_addr = '10.9.9.9' WHERE id = :i"),
            {"i": ids[0]})
    assert await _cli("audit", "verify", "--db", sqlite_db_url) == 1
    captured = capsys.readouterr()
    assert f"audit row {ids[0]}: its fields were edited" in captured.out
    assert "the access audit is broken" in captured.err


async def _cli(*argv: str) -> int:
    import asyncio

    return await asyncio.to_thread(main, list(argv))
