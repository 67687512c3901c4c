"""``clinicall callbacks list|show|cancel`` on a migrated store: numbers masked unless asked,
a job's attempts shown, an open job cancelled once, a wrong id one clear line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from clinicall.cli import main
from clinicall.db import create_engine, session_factory
from clinicall.db.callbacks import CallbackStore, Settlement
from clinicall.db.models import CallbackReason

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ANNA = "+380501112233"


async def _jobs(url: str) -> tuple[int, int]:
    """A pending job and a done one with one answered attempt."""
    engine = create_engine(url)
    try:
        store = CallbackStore(session_factory(engine), owner="t", lease=timedelta(minutes=3))
        pending = await store.add_job(phone=ANNA, queue="therapy", reason=CallbackReason.MISSED,
                                      arrived_at=T0, due_at=T0, now=T0)  # fmt: skip
        done = await store.add_job(phone="+380509998877", queue="therapy", now=T0,
                                   reason=CallbackReason.MANUAL, arrived_at=T0, due_at=T0)
        [job] = await store.claim([done], T0)
        attempt = await store.begin_attempt(job, call_id_for=str, agent="Local/op1", now=T0)
        await store.settle(job, attempt, outcome="answered", now=T0 + timedelta(minutes=1),
                           settlement=Settlement("done", 1, None, "answered"))  # fmt: skip
        return pending, done
    finally:
        await engine.dispose()


def test_list_show_and_cancel(sqlite_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    pending, done = asyncio.run(_jobs(sqlite_db_url))
    assert main(["callbacks", "list", "--db", sqlite_db_url]) == 0
    out = capsys.readouterr().out
    assert ANNA not in out
    assert "***233" in out
    assert main(["callbacks", "list", "--db", sqlite_db_url, "--state", "done",
                 "--full-numbers"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:5] for line in lines] == [
        [str(done), "done", "manual", "therapy", "+380509998877"]]
    assert main(["callbacks", "show", str(done), "--db", sqlite_db_url]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[1].split("\t")[0::2] == ["  #1", "Local/op1", f"cb{done}-1"]
    assert main(["callbacks", "cancel", str(pending), "--db", sqlite_db_url]) == 0
    assert capsys.readouterr().out == f"cancelled callback job {pending}\n"
    assert main(["callbacks", "cancel", str(pending), "--db", sqlite_db_url]) == 1
    err = capsys.readouterr().err
    assert f"callback job {pending} is cancelled: only an open job" in err
    assert main(["callbacks", "show", "999", "--db", sqlite_db_url]) == 1
    assert "no callback job 999" in capsys.readouterr().err
