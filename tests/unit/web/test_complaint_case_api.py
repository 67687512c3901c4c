"""Working a complaint case over HTTP: a manager opens a case from a letter, attaches the
patient's calls of that day by number and date (their recordings with them; another day's and
another number's calls stay out), adds a note, names the owner, records the reply sent; the
case file shows it all with the config's participants; bad input and a missing case each get
their own code; an operator is refused."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import recorded_calls

from clinicall.db.models import Role
from clinicall.settings.models import ClinicConfig

from .web_fixtures import NOW, Account

Client = TestClient[web.Request, web.Application]
PATIENT = "+380671112233"


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def test_a_manager_works_a_case_from_a_letter(
    client: Client, accounts: dict[Role, Account], db_sessions: async_sessionmaker[AsyncSession],
    clinic_config: ClinicConfig,
) -> None:
    day = NOW.astimezone(clinic_config.clinic.zone).date()
    ids = await recorded_calls(db_sessions, [("morning", PATIENT, NOW - timedelta(minutes=5)),
                                     ("again", PATIENT, NOW - timedelta(minutes=1)),
                                     ("other day", PATIENT, NOW - timedelta(days=2)),
                                     ("someone else", "+380501230000", NOW)])
    manager = bearer(accounts[Role.MANAGER])
    made = await (await client.post("/api/complaints", headers=manager,
                                    json={"summary": "a letter: kept waiting",
                                          "phone": PATIENT})).json()
    url = f"/api/complaints/{made['id']}"
    attached = await client.post(f"{url}/calls/by-number", headers=manager,
                                 json={"number": PATIENT, "date": day.isoformat()})
    assert await attached.json() == {"calls": [ids["morning"], ids["again"]],
                                     "recordings_linked": 2}
    for path, body in (("notes", {"note": "listened: 4 minutes on hold"}),
                       ("owner", {"username": accounts[Role.QUALITY].username}),
                       ("reply", {"reply": "We are sorry; the queue now calls back."})):
        response = await client.post(f"{url}/{path}", headers=manager, json=body)
        assert response.status == 200, await response.text()

    case = await (await client.get(url, headers=manager)).json()
    assert case["owner"] == accounts[Role.QUALITY].username
    assert case["reply"] == "We are sorry; the queue now calls back."
    assert case["participants"] == clinic_config.complaints.participants
    assert case["calls"] == [ids["morning"], ids["again"]]
    assert len(case["recordings"]) == 2
    assert [(e["kind"], e["by"]) for e in case["events"]] == [
        ("opened", accounts[Role.MANAGER].username),
        ("call linked", accounts[Role.MANAGER].username),
        ("call linked", accounts[Role.MANAGER].username),
        ("note", accounts[Role.MANAGER].username),
        ("owner", accounts[Role.MANAGER].username),
        ("reply sent", accounts[Role.MANAGER].username)]
    assert case["events"][3]["note"] == "listened: 4 minutes on hold"
    report = await client.get(f"/api/complaints/report?from={day}&to={day}", headers=manager)
    assert report.status == 200  # still the report, not a case called "report"
    assert (await report.json())["by"] == ["queue", "topic"]


async def test_refusals_say_what_with_their_codes(
    client: Client, accounts: dict[Role, Account],
) -> None:
    quality = bearer(accounts[Role.QUALITY])
    made = await (await client.post("/api/complaints", headers=quality,
                                    json={"summary": "rude"})).json()
    url = f"/api/complaints/{made['id']}"
    for path, body, code in (
            ("notes", {"note": "  "}, "invalid_note"),
            ("reply", {}, "invalid_reply"),
            ("owner", {"username": "nobody"}, "unknown_user"),
            ("calls/by-number", {"number": "0671112233", "date": "2026-12-04"},
             "invalid_number"),
            ("calls/by-number", {"number": PATIENT, "date": "2026-02-30"}, "invalid_date")):
        response = await client.post(f"{url}/{path}", headers=quality, json=body)
        assert (response.status, (await response.json())["code"]) == (400, code), path
    for missing in (client.get("/api/complaints/999999", headers=quality),
                    client.post("/api/complaints/999999/notes", headers=quality,
                                json={"note": "x"})):
        response = await missing
        assert (response.status, (await response.json())["code"]) == (404, "no_such_case")
    operator = bearer(accounts[Role.OPERATOR])
    assert (await client.get(url, headers=operator)).status == 403
    assert (await client.post(f"{url}/notes", headers=operator, json={"note": "x"})).status == 403
