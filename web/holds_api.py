"""Manual legal holds over HTTP (manager and quality roles, the access table's REVIEWERS):

    POST /api/recordings/{id}/hold           {"reason"}: hold it; 201, 409 when already held
    POST /api/recordings/{id}/hold/release   {"reason"}: release the open hold; 409 when none
    GET  /api/holds                          the open holds: who set each one, when and why

Each writes a ``hold`` audit row with the user and the address (recordings.holds).
docs/recordings.md, "Retention".
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from clinicall.db.models import RecordingHold
from clinicall.recordings import holds
from clinicall.recordings.audit import AuditLog
from clinicall.web.api_errors import json_object
from clinicall.web.keys import CLOCK, IDENTITY, SESSIONS

Change = Callable[..., Awaitable[RecordingHold]]  # holds.set_hold or holds.release_hold
AUDIT: web.AppKey[AuditLog] = web.AppKey("holds_audit", AuditLog)


def add_routes(app: web.Application) -> None:
    app[AUDIT] = AuditLog()
    app.router.add_post("/api/recordings/{id}/hold", hold)
    app.router.add_post("/api/recordings/{id}/hold/release", release)
    app.router.add_get("/api/holds", listed)


async def listed(request: web.Request) -> web.Response:
    """The open holds (no number, no audio: the list is not an access to audit)."""
    async with request.app[SESSIONS]() as session:
        rows = await holds.open_holds(session)
    return web.json_response({"holds": [
        {"id": h.hold_id, "recording_id": h.recording_id, "call_key": h.call_key,
         "recording_started_at": h.recording_started_at.isoformat(),
         "held_at": h.held_at.isoformat(), "held_by": h.held_by, "reason": h.reason}
        for h in rows]})


async def hold(request: web.Request) -> web.Response:
    return await _change(request, holds.set_hold, status=201)


async def release(request: web.Request) -> web.Response:
    return await _change(request, holds.release_hold, status=200)


async def _change(request: web.Request, change: Change, *, status: int) -> web.Response:
    rid = _recording_id(request)
    reason = (await json_object(request)).get("reason")
    if not isinstance(reason, str):
        raise _error(web.HTTPBadRequest, "reason: why the recording is held or released")
    now = request.app[CLOCK]()
    user_id = request[IDENTITY].user_id
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            row = await change(session, request.app[AUDIT], rid, reason=reason, at=now,
                               user_id=user_id, remote_addr=request.remote)
            answer = {"id": row.id, "recording_id": rid, "held_at": row.held_at.isoformat(),
                      "released_at": row.released_at.isoformat() if row.released_at else None,
                      "reason": row.reason}
    except holds.NoRecording:
        raise _error(web.HTTPNotFound, "no such recording") from None
    except holds.HoldConflict as exc:
        raise _error(web.HTTPConflict, str(exc)) from None
    except holds.HoldError as exc:
        raise _error(web.HTTPBadRequest, str(exc)) from None
    return web.json_response(answer, status=status)


def _recording_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise _error(web.HTTPNotFound, "no such recording")
    return int(raw)


def _error(cls: type[web.HTTPError], message: str) -> web.HTTPError:
    return cls(text=json.dumps({"error": message}), content_type="application/json")
