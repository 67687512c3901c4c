"""The recordings API on the real application: who may reach it, search, listening sessions
(one audit row however many seeks), byte ranges exactly, download as its own permission,
notes, and path traversal refused on every file route."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from store_writes import writing

from clinicall.db.models import (
    Call,
    Complaint,
    ComplaintRecording,
    ComplaintState,
    Direction,
    QueueAttempt,
    QueueOutcome,
    Recording,
    RecordingAccess,
    RecordingAction,
    Role,
)
from clinicall.recordings.audit import verify
from clinicall.recordings.storage import stored_name
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app

from .web_fixtures import FAST_COST, NOW, SECRET, Account, FakeLive

Client = TestClient[web.Request, web.Application]
PLAY = bytes(range(256)) * 40  # 10,240 bytes: every offset's byte is known
ORIGINAL = b"OggS original" * 100


@pytest.fixture
async def store(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
async def recordings(db_sessions: async_sessionmaker[AsyncSession], store: Path) -> list[int]:
    """Two answered calls with imported recordings (therapy by op101, 12 s; pediatrics by
    op103, 95 s) and one not imported yet."""
    ids = []
    specs = [("+380671112233", "therapy", "op101", 12.0, NOW - timedelta(hours=3)),
             ("+380509998877", "pediatrics", "op103", 95.0, NOW - timedelta(days=2))]
    for n, (caller, queue, agent, duration, at) in enumerate(specs):
        async with writing(db_sessions) as session:
            call = Call(call_key=f"R{n}", direction=Direction.INBOUND, caller=caller,
                        started_at=at, ended_at=at + timedelta(minutes=3), missed=False,
                        route=queue)
            call.queue_attempts.append(QueueAttempt(
                channel_id=f"U{n}", queue=queue, joined_at=at, connected_at=at,
                outcome=QueueOutcome.ANSWERED, wait_s=1.0, talk_s=duration, agent=agent))
            session.add(call)
            await session.flush()
            call_id = call.id
        async with db_sessions.begin() as session:
            row = Recording(call_id=call_id, call_key=f"R{n}", path=f"pending-{n}",
                            format="ogg", size_bytes=len(ORIGINAL), sha256="c" * 64,
                            duration_s=duration, channels=2, peaks=[[1, 2], [3, 4]],
                            started_at=at, imported_at=at)
            session.add(row)
            await session.flush()
            row.path = stored_name(row.id, at, "orig", "ogg")
            row.transcode_path = stored_name(row.id, at, "play", "opus")
            for name, data in ((row.path, ORIGINAL), (row.transcode_path, PLAY)):
                (store / name).parent.mkdir(parents=True, exist_ok=True)
                (store / name).write_bytes(data)
            ids.append(row.id)
    async with db_sessions.begin() as session:
        pending = Recording(call_key="R9", path="2026/07/01/R9.ogg", format="ogg",
                            size_bytes=0, sha256="", started_at=NOW, imported_at=NOW)
        session.add(pending)
        await session.flush()
        ids.append(pending.id)
    return ids


@pytest.fixture
async def client(db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
                 store: Path, recordings: list[int]) -> AsyncIterator[Client]:
    rec = clinic_config.recordings.model_copy(update={"storage_dir": str(store)})
    config = clinic_config.model_copy(update={"recordings": rec})
    app = build_app(sessions=db_sessions, config=config, live=FakeLive(), secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.token}"}


async def open_session(client: Client, account: Account, rid: int) -> str:
    response = await client.post(f"/api/recordings/{rid}/listen", headers=bearer(account),
                                 json={"reason": "complaint review"})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["peaks"] == [[1, 2], [3, 4]]
    audio: str = body["audio"]
    return audio


async def audit_rows(sessions: async_sessionmaker[AsyncSession]) -> list[RecordingAccess]:
    async with sessions() as session:
        return list(await session.scalars(select(RecordingAccess).order_by(RecordingAccess.id)))


ROUTES = [("GET", "/api/recordings"), ("POST", "/api/recordings/{id}/listen"),
          ("GET", "/api/recordings/{id}/audio?listen=x"),
          ("GET", "/api/recordings/{id}/download?reason=x"),
          ("GET", "/api/recordings/{id}/notes"), ("POST", "/api/recordings/{id}/notes")]


@pytest.mark.parametrize(("method", "route"), ROUTES)
async def test_operators_and_admins_are_refused_and_strangers_must_log_in(
    client: Client, accounts: dict[Role, Account], recordings: list[int], method: str,
    route: str,
) -> None:
    url = route.replace("{id}", str(recordings[0]))
    for role in (Role.OPERATOR, Role.ADMIN):
        response = await client.request(method, url, headers=bearer(accounts[role]), json={})
        assert response.status == 403, (role, await response.text())
    assert (await client.request(method, url, json={})).status == 401


async def test_search_by_digits_queue_operator_duration_and_day(
    client: Client, accounts: dict[Role, Account], recordings: list[int],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def ids(query: str) -> list[int]:
        response = await client.get(f"/api/recordings?{query}",
                                    headers=bearer(accounts[Role.QUALITY]))
        assert response.status == 200, await response.text()
        return [r["id"] for r in (await response.json())["recordings"]]

    first, second, _pending = recordings
    assert await ids("") == [first, second]  # newest first; the pending one is not listed
    assert await ids("digits=2233") == [first]
    assert await ids("queue=pediatrics") == [second]
    assert await ids("operator=op101") == [first]
    assert await ids("min_s=60") == [second]
    assert await ids("max_s=60") == [first]
    assert await ids(f"from={NOW.date()}&to={NOW.date()}") == [first]
    assert await ids("topic=therapy") == [first]  # the IVR's route
    assert await ids("topic=nothing") == []
    async with db_sessions.begin() as session:
        case = Complaint(summary="s", state=ComplaintState.NEW, opened_at=NOW, due_at=NOW)
        session.add(case)
        await session.flush()
        session.add(ComplaintRecording(complaint_id=case.id, recording_id=second))
        case_id = case.id
    assert await ids(f"complaint={case_id}") == [second]
    assert await ids(f"complaint={case_id + 1}") == []
    response = await client.get("/api/recordings?digits=2233",
                                headers=bearer(accounts[Role.MANAGER]))
    (found,) = (await response.json())["recordings"]
    assert found["number"] == "\u2022\u2022\u20222233"  # never the whole number
    for bad in ("digits=22%25", "digits=1", "from=yesterday", "min_s=-1", "sort=id",
                "complaint=x", "complaint=-1"):
        response = await client.get(f"/api/recordings?{bad}",
                                    headers=bearer(accounts[Role.MANAGER]))
        assert response.status == 400, bad


async def test_a_listening_session_serves_exact_ranges_and_writes_one_audit_row(
    client: Client, accounts: dict[Role, Account], recordings: list[int],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    manager = accounts[Role.MANAGER]
    rid = recordings[0]
    no_key = await client.get(f"/api/recordings/{rid}/audio?listen=guess", headers=bearer(manager))
    assert no_key.status == 403
    audio = await open_session(client, manager, rid)

    whole = await client.get(audio, headers=bearer(manager))
    assert whole.status == 200
    assert await whole.read() == PLAY
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Type"] == "audio/ogg"
    etag = whole.headers["ETag"]

    part = await client.get(audio, headers={**bearer(manager), "Range": "bytes=100-199"})
    assert part.status == 206
    assert await part.read() == PLAY[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(PLAY)}"
    tail = await client.get(audio, headers={**bearer(manager), "Range": "bytes=-10"})
    assert (tail.status, await tail.read()) == (206, PLAY[-10:])
    past = await client.get(audio, headers={**bearer(manager),
                                            "Range": f"bytes={len(PLAY)}-"})
    assert past.status == 416
    assert past.headers["Content-Range"] == f"bytes */{len(PLAY)}"
    stale = await client.get(audio, headers={**bearer(manager), "Range": "bytes=0-9",
                                             "If-Range": '"another-version"'})
    assert (stale.status, await stale.read()) == (200, PLAY)
    fresh = await client.get(audio, headers={**bearer(manager), "Range": "bytes=0-9",
                                             "If-Range": etag})
    assert (fresh.status, await fresh.read()) == (206, PLAY[:10])

    (row,) = await audit_rows(db_sessions)
    assert (row.action, row.recording_id, row.reason) == (RecordingAction.PLAY, rid,
                                                          "complaint review")
    assert row.remote_addr == "127.0.0.1"

    other = await client.get(audio, headers=bearer(accounts[Role.QUALITY]))
    assert other.status == 403  # the key is the manager's session, not a shareable link


async def test_a_play_needs_a_reason(client: Client, accounts: dict[Role, Account],
                                     recordings: list[int]) -> None:
    for body in ({}, {"reason": "  "}, {"reason": "x" * 201}, ["reason"]):
        response = await client.post(f"/api/recordings/{recordings[0]}/listen",
                                     headers=bearer(accounts[Role.MANAGER]), json=body)
        assert response.status == 400, body


async def test_download_is_its_own_permission_and_is_audited(
    client: Client, accounts: dict[Role, Account], recordings: list[int],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    url = f"/api/recordings/{recordings[0]}/download"
    refused = await client.get(f"{url}?reason=legal", headers=bearer(accounts[Role.QUALITY]))
    assert refused.status == 403
    assert (await client.get(url, headers=bearer(accounts[Role.MANAGER]))).status == 400
    response = await client.get(f"{url}?reason=legal", headers=bearer(accounts[Role.MANAGER]))
    assert response.status == 200
    assert await response.read() == ORIGINAL
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="recording-{recordings[0]}.ogg"')
    (row,) = await audit_rows(db_sessions)
    assert (row.action, row.reason) == (RecordingAction.DOWNLOAD, "legal")


async def test_notes_are_kept_listed_and_audited(
    client: Client, accounts: dict[Role, Account], recordings: list[int],
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    quality = accounts[Role.QUALITY]
    url = f"/api/recordings/{recordings[0]}/notes"
    made = await client.post(url, headers=bearer(quality),
                             json={"offset_s": 4.5, "text": "operator interrupts"})
    assert made.status == 201
    for bad in ({"offset_s": -1, "text": "x"}, {"offset_s": 60, "text": "x"},
                {"offset_s": 1, "text": ""}, {"offset_s": True, "text": "x"}):
        assert (await client.post(url, headers=bearer(quality), json=bad)).status == 400, bad
    listed = await (await client.get(url, headers=bearer(quality))).json()
    assert [(n["offset_s"], n["text"]) for n in listed["notes"]] == [(4.5, "operator interrupts")]
    (row,) = await audit_rows(db_sessions)
    assert row.action == RecordingAction.NOTE
    assert (await verify(db_sessions)).intact


@pytest.mark.parametrize("route", ["audio?listen=k", "download?reason=x", "notes", "listen"])
@pytest.mark.parametrize("raw_id", ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "1%00",
                                    "-1", "1e3", "%2e%2e"])
async def test_file_routes_take_only_an_id(client: Client, accounts: dict[Role, Account],
                                           route: str, raw_id: str) -> None:
    method = "POST" if route == "listen" else "GET"
    response = await client.request(method, f"/api/recordings/{raw_id}/{route}",
                                    headers=bearer(accounts[Role.MANAGER]),
                                    json={"reason": "r"})
    assert response.status in (404, 400), await response.text()
    assert b"root:" not in await response.read()


@pytest.mark.parametrize("planted", ["../../../../../../etc/passwd", "/etc/passwd",
                                     "%2e%2e/%2e%2e/etc/passwd", "2026/07/01/../../../x",
                                     "symlink"])
async def test_a_catalogue_path_outside_the_root_is_refused_on_every_file_route(
    client: Client, accounts: dict[Role, Account], recordings: list[int], store: Path,
    tmp_path: Path, db_sessions: async_sessionmaker[AsyncSession], planted: str,
) -> None:
    rid = recordings[0]
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0")
    async with db_sessions() as session:
        row = await session.get(Recording, rid)
        assert row is not None
        assert row.transcode_path is not None
        play, orig = row.transcode_path, row.path
    if planted == "symlink":  # a link planted inside the root, under the stored names
        for name in (play, orig):
            os.unlink(store / name)
            os.symlink(secret, store / name)
    else:
        async with db_sessions.begin() as session:
            await session.execute(update(Recording).where(Recording.id == rid).values(
                path=planted, transcode_path=planted))
    manager = accounts[Role.MANAGER]
    audio = await open_session(client, manager, rid)
    for response in (await client.get(audio, headers=bearer(manager)),
                     await client.get(f"/api/recordings/{rid}/download?reason=x",
                                      headers=bearer(manager))):
        assert response.status == 404
        assert b"root:" not in await response.read()
    async with db_sessions() as session:
        audited = await session.scalar(select(func.count()).select_from(RecordingAccess))
    assert audited == 2  # the attempts are on record too



class DroppedConnection:
    """A payload writer whose peer went away after the headers (a seek dropped the request)."""

    buffer_size = 0
    output_size = 0

    def __init__(self) -> None:
        self.writes = 0

    async def write_headers(self, status_line: str, headers: object) -> None:
        return None

    def send_headers(self) -> None:
        return None

    async def write(self, chunk: bytes) -> None:
        self.writes += 1
        raise ConnectionResetError("Cannot write to closing transport")

    async def write_eof(self, chunk: bytes = b"") -> None:
        raise ConnectionResetError("Cannot write to closing transport")

    async def drain(self) -> None:
        return None

    def enable_compression(self, *args: object, **kwargs: object) -> None:
        return None

    def enable_chunking(self) -> None:
        return None

    def set_eof(self) -> None:
        return None


async def test_a_player_that_drops_a_request_midway_is_no_error(tmp_path: Path) -> None:
    from aiohttp.test_utils import make_mocked_request

    from clinicall.recordings.storage import Storage
    from clinicall.web import recordings_api

    name = "2026/07/01/1.play.opus"
    (tmp_path / name).parent.mkdir(parents=True)
    (tmp_path / name).write_bytes(PLAY)
    app = web.Application()
    app[recordings_api.STORAGE] = Storage(tmp_path)
    writer = DroppedConnection()
    request = make_mocked_request("GET", "/audio", app=app, writer=writer)
    response = await recordings_api._send_file(request, 1, name)
    assert response.status == 200
    assert writer.writes == 1  # it stopped at the first failed write


async def test_admins_read_and_export_the_audit_and_nobody_else_does(
    client: Client, accounts: dict[Role, Account], recordings: list[int],
) -> None:
    manager, admin = accounts[Role.MANAGER], accounts[Role.ADMIN]
    for _ in range(3):
        await open_session(client, manager, recordings[0])
    page = await (await client.get("/api/audit?after=0", headers=bearer(admin))).json()
    assert [r["action"] for r in page["rows"]] == ["play"] * 3
    assert page["more"] is False
    first = page["rows"][0]["id"]
    later = await (await client.get(f"/api/audit?after={first}", headers=bearer(admin))).json()
    assert len(later["rows"]) == 2
    export = await client.get("/api/audit.csv", headers=bearer(admin))
    assert export.status == 200
    lines = (await export.text()).splitlines()
    assert lines[0] == ("id,at,user_id,action,recording_id,remote_addr,reason,detail,"
                        "prev_hash,row_hash")
    assert len(lines) == 4
    assert lines[2].split(",")[-2] == lines[1].split(",")[-1]  # the chain, in the export
    for role in (Role.MANAGER, Role.QUALITY, Role.OPERATOR):
        for url in ("/api/audit", "/api/audit.csv"):
            assert (await client.get(url, headers=bearer(accounts[role]))).status == 403
    assert (await client.get("/api/audit?after=x", headers=bearer(admin))).status == 400
    for method in ("DELETE", "POST", "PUT"):
        refused = await client.request(method, "/api/audit", headers=bearer(admin))
        assert refused.status == 405
