"""``clinicall appointments import|list`` on a migrated store: bad rows reported with line and
column while the good ones go in, a second import changes nothing, tomorrow's list and the
no-show risk (unconfirmed appointments)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinicall.cli import main
from clinicall.db import create_engine, session_factory
from clinicall.db.appointments import CONFIRMED, AppointmentStore
from clinicall.settings.loader import load_config

from .scenario import EXAMPLE


async def _confirm(url: str, external_id: str) -> None:
    engine = create_engine(url)
    try:
        store = AppointmentStore(session_factory(engine))
        row = await store.by_external_id(external_id)
        assert row is not None
        await store.record_answer(row.id, CONFIRMED, datetime.now(UTC))
    finally:
        await engine.dispose()


def test_import_twice_then_list_tomorrow(sqlite_db_url: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    zone = load_config(EXAMPLE).clinic.zone
    tomorrow = (datetime.now(zone) + timedelta(days=1)).date().isoformat()
    csv = tmp_path / "day.csv"
    csv.write_text("external_id,phone,language,doctor,specialty,starts_at\n"
                   f"A-1,+380501112233,uk,petrenko,ultrasound,{tomorrow} 09:30\n"
                   f"A-2,+380501112244,en,lysenko,pediatrics,{tomorrow} 10:00\n"
                   f"A-3,+380501112255,xx,lysenko,pediatrics,{tomorrow} 10:00\n",
                   encoding="utf-8")
    given = ["--config", str(EXAMPLE), "--db", sqlite_db_url]
    assert main(["appointments", "import", str(csv), *given]) == 1
    out, err = capsys.readouterr()
    assert out == "2 new, 0 changed, 0 unchanged, 1 bad row(s)\n"
    assert err == (f"{csv}: line 4, column 3 (language): one of uk, ru, en; got 'xx'\n")
    assert main(["appointments", "import", str(csv), *given]) == 1
    assert capsys.readouterr().out == "0 new, 0 changed, 2 unchanged, 1 bad row(s)\n"
    asyncio.run(_confirm(sqlite_db_url, "A-1"))
    assert main(["appointments", "list", "--tomorrow", *given]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(cells[0], cells[1], cells[4], cells[5], cells[6]) for cells in lines] == [
        (f"{tomorrow} 09:30", "A-1", "confirmed", "confirmed", "***233"),
        (f"{tomorrow} 10:00", "A-2", "scheduled", "-", "***244")]
    assert main(["appointments", "list", "--risk", "--json", "--full-numbers", *given]) == 0
    risk = json.loads(capsys.readouterr().out)
    assert [(a["external_id"], a["phone"], a["state"]) for a in risk] == [
        ("A-2", "+380501112244", "scheduled")]
    assert main(["appointments", "import", str(tmp_path / "none.csv"), *given]) == 1
    assert "none.csv: no such file" in capsys.readouterr().err
