"""The store on both databases: migrations, model round trips, the idempotent journal.

Every test here runs on SQLite and on a real PostgreSQL (``db_url`` is parametrized).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db import (
    JournalEntry,
    create_engine,
    current_revision,
    insert_journal,
    schema_diff,
    upgrade,
)
from clinicall.db.models import (
    Call,
    Callback,
    CallbackReason,
    CallbackState,
    Direction,
    IngestState,
    IvrOutcome,
    JournalEvent,
    JournalSource,
    QueueAttempt,
    QueueOutcome,
    RingAttempt,
)

KYIV_SUMMER = timezone(timedelta(hours=3))
T0 = datetime(2026, 7, 1, 9, 30, 15, 250000, tzinfo=UTC)


def _head() -> str:
    """The newest migration, from the script directory (it must be exactly one head)."""
    from alembic.script import ScriptDirectory

    from clinicall.db.migrate import alembic_config

    (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()
    return str(head)


async def test_migration_creates_the_schema_of_the_models(empty_db_url: str) -> None:
    assert await current_revision(empty_db_url) is None
    await upgrade(empty_db_url)
    await upgrade(empty_db_url)  # at head: nothing to do, no error
    assert await current_revision(empty_db_url) == _head()
    assert await schema_diff(empty_db_url) == []


async def test_schema_diff_sees_a_missing_table(db_url: str) -> None:
    """The parity check can fail: drop a table and it must report it."""
    engine = create_engine(db_url)
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE survey_answers")
    await engine.dispose()
    diff = await schema_diff(db_url)
    assert [(op[0], op[1].name) for op in diff if op[0] == "add_table"] == [
        ("add_table", "survey_answers")
    ]


def _call(call_key: str = "1700000000.1") -> Call:
    return Call(
        call_key=call_key,
        direction=Direction.INBOUND,
        caller="+380441234567",
        dialled="+380442000000",
        started_at=T0.astimezone(KYIV_SUMMER),  # any zone in, UTC out
        language="uk",
        ivr_path="2>1",
        route="cardiology",
        ivr_outcome=IvrOutcome.QUEUE,
    )


async def test_call_with_attempts_round_trips_with_aware_utc_times(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with writing(db_sessions) as session:
        call = _call()
        attempt = QueueAttempt(
            channel_id="1700000000.1",
            queue="cardiology",
            joined_at=T0 + timedelta(seconds=20),
            connected_at=T0 + timedelta(seconds=47),
            outcome=QueueOutcome.ANSWERED,
            wait_s=27.0,
            agent="PJSIP/op1",
            position=1,
            original_position=2,
        )
        attempt.rings.append(
            RingAttempt(member="PJSIP/op2", rang_at=T0 + timedelta(seconds=21), ring_ms=15000)
        )
        call.queue_attempts.append(attempt)
        session.add(call)

    async with db_sessions() as session:
        stored = (await session.scalars(select(Call))).one()
        attempts = (await session.scalars(select(QueueAttempt))).all()
        ring = (await session.scalars(select(RingAttempt))).one()
    assert stored.started_at == T0
    assert stored.started_at.tzinfo == UTC
    assert stored.answered_at is None
    assert stored.ivr_outcome is IvrOutcome.QUEUE
    assert stored.missed is False
    assert [a.outcome for a in attempts] == [QueueOutcome.ANSWERED]
    assert attempts[0].connected_at == T0 + timedelta(seconds=47)
    assert attempts[0].connected_at is not None
    assert attempts[0].connected_at.tzinfo == UTC
    assert (ring.member, ring.ring_ms, ring.answered) == ("PJSIP/op2", 15000, False)


async def test_time_range_query_compares_instants_not_text(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite times are text: a bound time in another zone must still compare as an instant."""
    async with writing(db_sessions) as session:
        session.add_all([_call("a"), _call("b")])
        (await session.scalars(select(Call).where(Call.call_key == "b"))).one().started_at = (
            T0 + timedelta(hours=2)
        )
    bound = (T0 + timedelta(hours=1)).astimezone(KYIV_SUMMER)
    async with db_sessions() as session:
        later = (await session.scalars(select(Call.call_key).where(Call.started_at > bound))).all()
    assert later == ["b"]


async def test_stored_enum_is_the_value_not_the_name(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with writing(db_sessions) as session:
        session.add(_call())
    async with db_sessions() as session:
        raw = (await session.execute(select(func.lower(Call.ivr_outcome)))).scalar_one()
        text = await session.execute(select(Call.direction).where(Call.direction == "inbound"))
    assert raw == "queue"
    assert text.scalar_one() is Direction.INBOUND


async def test_call_key_is_unique(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with writing(db_sessions) as session:
        session.add(_call())
    with pytest.raises(IntegrityError):
        async with writing(db_sessions) as session:
            session.add(_call())


async def test_foreign_keys_are_enforced(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(IntegrityError):
        async with writing(db_sessions) as session:
            session.add(
                QueueAttempt(call_id=424242, channel_id="x", queue="q", joined_at=T0, position=1)
            )


async def test_callback_and_ingest_state_defaults(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with writing(db_sessions) as session:
        session.add(
            Callback(
                phone="+380441234567",
                reason=CallbackReason.MISSED,
                created_at=T0,
                due_at=T0 + timedelta(minutes=5),
            )
        )
        session.add(IngestState(source="queue_log", cursor={"inode": 2**40}, updated_at=T0))
    async with db_sessions() as session:
        job = (await session.scalars(select(Callback))).one()
        state = await session.get(IngestState, "queue_log")
    assert (job.state, job.attempts, job.due_at) == (
        CallbackState.PENDING,
        0,
        T0 + timedelta(minutes=5),
    )
    assert state is not None
    assert state.cursor == {"inode": 2**40}  # a JSON object, big integers intact


def _entry(key: str, second: int = 0) -> JournalEntry:
    return JournalEntry(
        key=key,
        source=JournalSource.RECORD,
        at=T0 + timedelta(seconds=second),
        kind="queue.joined",
        payload={"queue": "cardiology", "position": 1, "note": "ключ"},
    )


async def test_journal_inserts_each_key_once(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with writing(db_sessions) as session:
        assert await insert_journal(session, [_entry("k1"), _entry("k2"), _entry("k1")]) == 2
    async with writing(db_sessions) as session:
        assert await insert_journal(session, [_entry("k2"), _entry("k3", 5)]) == 1
        assert await insert_journal(session, []) == 0
    async with db_sessions() as session:
        rows = (await session.scalars(select(JournalEvent).order_by(JournalEvent.key))).all()
    assert [r.key for r in rows] == ["k1", "k2", "k3"]
    assert rows[2].at == T0 + timedelta(seconds=5)
    assert rows[0].payload == {"queue": "cardiology", "position": 1, "note": "ключ"}
    assert rows[0].source is JournalSource.RECORD


async def test_journal_counts_across_batches(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = [_entry(f"k{i}") for i in range(1500)]
    again = [_entry(f"k{i}") for i in range(1000, 2600)]
    async with writing(db_sessions) as session:
        assert await insert_journal(session, first) == 1500
        assert await insert_journal(session, again) == 1100
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(JournalEvent)) == 2600
