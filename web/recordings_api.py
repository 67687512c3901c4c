"""The recordings API: search, open a listening session, stream with seeks, download, notes.

Only reviewers (manager, quality) reach these routes (:mod:`web.access`); downloading is a
separate permission (``recordings.download_roles``).  Every file is found by the recording's
id through the catalogue and :class:`recordings.storage.Storage`, which refuses any path
outside the storage root: no route takes a file name.

A play is one **listening session**: ``POST /api/recordings/{id}/listen`` with a reason writes
one audit row and returns a key; the player's Range requests on ``/audio?listen=<key>`` are
served while the key is fresh and write nothing more (docs/recordings.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any, BinaryIO

from aiohttp import web
from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import (
    Call,
    ComplaintRecording,
    QueueAttempt,
    Recording,
    RecordingAccess,
    RecordingAction,
    RecordingNote,
)
from clinicall.recordings.audit import Access, AuditLog
from clinicall.recordings.storage import OutsideStorage, Storage
from clinicall.web import byte_ranges
from clinicall.web.keys import CLOCK, CONFIG, IDENTITY, SESSIONS, Identity

STORAGE = web.AppKey("recordings_storage", Storage)
AUDIT = web.AppKey("recordings_audit", AuditLog)

LISTEN_TTL = timedelta(hours=4)
MAX_RESULTS = 200
CHUNK = 64 * 1024
MAX_REASON = 200
MAX_NOTE = 2000
_DIGITS = re.compile(r"^[0-9]{2,6}$")
MEDIA_TYPES = {"opus": "audio/ogg", "ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}

def add_routes(app: web.Application, storage: Storage) -> None:
    app[STORAGE] = storage
    app[AUDIT] = AuditLog()
    app.router.add_get("/api/recordings", search)
    app.router.add_post("/api/recordings/{id}/listen", listen)
    app.router.add_get("/api/recordings/{id}/audio", audio)
    app.router.add_get("/api/recordings/{id}/download", download)
    app.router.add_get("/api/recordings/{id}/notes", notes)
    app.router.add_post("/api/recordings/{id}/notes", add_note)


class BadInput(web.HTTPBadRequest):
    def __init__(self, problem: str) -> None:
        super().__init__(text=json.dumps({"error": problem}), content_type="application/json")


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text='{"error": "no such recording"}',
                            content_type="application/json")


# -- search ---------------------------------------------------------------------------------

async def search(request: web.Request) -> web.Response:
    """Recordings by day (the clinic's), queue, operator, the number's last digits, duration,
    topic (the IVR's route) and complaint case."""
    query = request.query
    zone = request.app[CONFIG].clinic.zone
    stmt = _search_statement()
    if "from" in query:
        start = datetime.combine(_day(query["from"], "from"), time(), zone)
        stmt = stmt.where(Recording.started_at >= start)
    if "to" in query:
        end = datetime.combine(_day(query["to"], "to") + timedelta(days=1), time(), zone)
        stmt = stmt.where(Recording.started_at < end)
    if "queue" in query:
        stmt = stmt.where(QueueAttempt.queue == query["queue"])
    if "operator" in query:
        stmt = stmt.where(QueueAttempt.agent == query["operator"])
    if "digits" in query:
        if not _DIGITS.match(query["digits"]):
            raise BadInput("digits: 2 to 6 digits, the end of the number")
        stmt = stmt.where(Call.caller.like(f"%{query['digits']}"))
    if "topic" in query:  # the IVR's route (the triage topic)
        stmt = stmt.where(Call.route == query["topic"])
    if "complaint" in query:
        raw = query["complaint"]
        if not raw.isdigit() or len(raw) > 18:
            raise BadInput("complaint: a complaint case's id")
        stmt = stmt.where(Recording.id.in_(
            select(ComplaintRecording.recording_id)
            .where(ComplaintRecording.complaint_id == int(raw))))  # fmt: skip
    if "min_s" in query:
        stmt = stmt.where(Recording.duration_s >= _seconds(query["min_s"], "min_s"))
    if "max_s" in query:
        stmt = stmt.where(Recording.duration_s <= _seconds(query["max_s"], "max_s"))
    async with request.app[SESSIONS]() as session:
        rows = (await session.execute(stmt.limit(MAX_RESULTS))).all()
    found = [_found(row, caller, queue, agent) for row, caller, queue, agent in rows]
    return web.json_response({"recordings": found,
                              "limit": MAX_RESULTS})


def _search_statement() -> Select[Recording, str | None, str, str | None]:
    answered = and_(QueueAttempt.call_id == Call.id, QueueAttempt.connected_at.is_not(None))
    return (select(Recording, Call.caller, QueueAttempt.queue, QueueAttempt.agent)
            .outerjoin(Call, Call.id == Recording.call_id)
            .outerjoin(QueueAttempt, answered)
            .where(Recording.deleted_at.is_(None), Recording.sha256 != "")
            .order_by(Recording.started_at.desc(), Recording.id.desc()))  # fmt: skip


def _found(row: Recording, caller: str | None, queue: str | None,
           operator: str | None) -> dict[str, Any]:
    return {"id": row.id, "started_at": row.started_at.isoformat(), "queue": queue,
            "operator": operator, "number": masked(caller), "duration_s": row.duration_s,
            "channels": row.channels}  # fmt: skip


def masked(number: str | None) -> str | None:
    """Only the last four digits leave the server (a search result is not the case file)."""
    if not number:
        return None
    return "\u2022\u2022\u2022" + number[-4:]


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{name}: a date as YYYY-MM-DD") from None


def _seconds(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise BadInput(f"{name}: a number of seconds") from None
    if not 0 <= seconds < 86400:
        raise BadInput(f"{name}: between 0 and 86400 seconds")
    return seconds


# -- listening ------------------------------------------------------------------------------

async def listen(request: web.Request) -> web.Response:
    """Open a listening session: one audit row (who, when, from where, why)."""
    rid = _recording_id(request)
    body = await _json_body(request)
    reason = _text(body.get("reason"), "reason", MAX_REASON)
    who = request[IDENTITY]
    key = secrets.token_urlsafe(24)
    async with request.app[SESSIONS]() as session, session.begin():
        row = await _live_recording(session, rid)
        await request.app[AUDIT].append(session, Access(
            rid, who.user_id, RecordingAction.PLAY, request.remote, reason, listen_key=key,
        ), request.app[CLOCK]())  # fmt: skip
        peaks, duration, channels = row.peaks or [], row.duration_s, row.channels
    return web.json_response({"listen": key, "audio": f"/api/recordings/{rid}/audio?listen={key}",
                              "peaks": peaks, "duration_s": duration, "channels": channels})


async def audio(request: web.Request) -> web.StreamResponse:
    """The browser copy, with seeks (Range), for a fresh listening session of this user."""
    rid = _recording_id(request)
    key = request.query.get("listen", "")
    who: Identity = request[IDENTITY]
    since = request.app[CLOCK]() - LISTEN_TTL
    async with request.app[SESSIONS]() as session:
        opened = await session.scalar(select(RecordingAccess.id).where(
            RecordingAccess.listen_key == key, RecordingAccess.recording_id == rid,
            RecordingAccess.user_id == who.user_id, RecordingAccess.at >= since))
        row = await _live_recording(session, rid)
    if opened is None:
        raise web.HTTPForbidden(text='{"error": "open a listening session first"}',
                                content_type="application/json")
    if not row.transcode_path:
        raise _not_found()
    return await _send_file(request, row.id, row.transcode_path)


async def download(request: web.Request) -> web.StreamResponse:
    """The original file, for the roles of ``recordings.download_roles``; audited."""
    rid = _recording_id(request)
    who: Identity = request[IDENTITY]
    if who.role.value not in request.app[CONFIG].recordings.download_roles:
        raise web.HTTPForbidden(text='{"error": "downloading needs its own permission"}',
                                content_type="application/json")
    reason = _text(request.query.get("reason"), "reason", MAX_REASON)
    async with request.app[SESSIONS]() as session, session.begin():
        row = await _live_recording(session, rid)
        await request.app[AUDIT].append(session, Access(
            rid, who.user_id, RecordingAction.DOWNLOAD, request.remote, reason,
        ), request.app[CLOCK]())  # fmt: skip
        relative, fmt = row.path, row.format
    return await _send_file(request, rid, relative, attachment=f"recording-{rid}.{fmt}")


async def _send_file(request: web.Request, rid: int, relative: str, *,
                     attachment: str | None = None) -> web.StreamResponse:
    try:
        path = request.app[STORAGE].resolve(relative)
        handle, size, mtime = await asyncio.to_thread(_open, path)
    except (OutsideStorage, FileNotFoundError, IsADirectoryError):
        raise _not_found() from None
    try:
        etag = f'"{rid}-{size}-{int(mtime * 1e6):x}"'
        modified = formatdate(int(mtime), usegmt=True)
        choice = byte_ranges.choose(request.headers.get("Range"), request.headers.get("If-Range"),
                                    size=size, etag=etag, last_modified=modified)
        headers = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": modified,
                   "Content-Type": MEDIA_TYPES.get(Path(relative).suffix.lstrip("."),
                                                   "application/octet-stream")}
        if attachment:
            headers["Content-Disposition"] = f'attachment; filename="{attachment}"'
        if isinstance(choice, byte_ranges.Unsatisfiable):
            return web.Response(status=416, headers={**headers,
                                                     "Content-Range": choice.content_range(size)})
        start, length, status = 0, size, 200
        if isinstance(choice, byte_ranges.Part):
            start, length, status = choice.start, choice.length, 206
            headers["Content-Range"] = choice.content_range(size)
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = length
        await response.prepare(request)
        await asyncio.to_thread(handle.seek, start)
        left = length
        try:
            while left > 0:
                block = await asyncio.to_thread(handle.read, min(CHUNK, left))
                if not block:
                    break
                await response.write(block)
                left -= len(block)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the player moved on (a seek drops the request it no longer needs)
        return response
    finally:
        await asyncio.to_thread(handle.close)


def _open(path: Path) -> tuple[BinaryIO, int, float]:
    handle = path.open("rb")
    st = os.fstat(handle.fileno())
    return handle, st.st_size, st.st_mtime


# -- notes ----------------------------------------------------------------------------------

async def notes(request: web.Request) -> web.Response:
    rid = _recording_id(request)
    async with request.app[SESSIONS]() as session:
        await _live_recording(session, rid)
        rows = await session.scalars(select(RecordingNote).where(
            RecordingNote.recording_id == rid).order_by(RecordingNote.offset_s, RecordingNote.id))
        out = [{"id": n.id, "offset_s": n.offset_s, "text": n.text, "at": n.at.isoformat(),
                "user_id": n.user_id} for n in rows]  # fmt: skip
    return web.json_response({"notes": out})


async def add_note(request: web.Request) -> web.Response:
    """A reviewer's note at a moment of the recording; audited like a play."""
    rid = _recording_id(request)
    body = await _json_body(request)
    text = _text(body.get("text"), "text", MAX_NOTE)
    offset = body.get("offset_s")
    if not isinstance(offset, int | float) or isinstance(offset, bool) or offset < 0:
        raise BadInput("offset_s: seconds from the start of the recording")
    who: Identity = request[IDENTITY]
    now = request.app[CLOCK]()
    async with request.app[SESSIONS]() as session, session.begin():
        row = await _live_recording(session, rid)
        if row.duration_s is not None and offset > row.duration_s + 1:
            raise BadInput("offset_s: past the end of the recording")
        note = RecordingNote(recording_id=rid, user_id=who.user_id, at=now,
                             offset_s=float(offset), text=text)
        session.add(note)
        await session.flush()
        await request.app[AUDIT].append(session, Access(
            rid, who.user_id, RecordingAction.NOTE, request.remote, detail=f"note {note.id}",
        ), now)  # fmt: skip
        note_id = note.id
    return web.json_response({"id": note_id}, status=201)


# -- shared ---------------------------------------------------------------------------------

def _recording_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise _not_found()
    return int(raw)


async def _live_recording(session: AsyncSession, rid: int) -> Recording:
    row = await session.get(Recording, rid)
    if row is None or row.deleted_at is not None or not row.sha256:
        raise _not_found()
    return row


async def _json_body(request: web.Request) -> Mapping[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadInput("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{name}: required")
    value = value.strip()
    if len(value) > limit or not value.replace("\n", " ").isprintable():
        raise BadInput(f"{name}: at most {limit} printable characters")
    return value
