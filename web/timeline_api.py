"""``GET /api/recordings/{id}/timeline`` (manager and quality roles): the call behind the
recording, step by step (recordings.timeline), each step with ``offset_s`` from the start of
the recording (negative before it: the IVR, the wait) so the player can mark it.  Shows no
audio and no number, so it is not an access to audit.  docs/recordings.md."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinicall.db.models import Call, QueueAttempt, Recording
from clinicall.recordings.timeline import call_timeline
from clinicall.web.keys import SESSIONS


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/recordings/{id}/timeline", timeline)


async def timeline(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise _not_found()
    async with request.app[SESSIONS]() as session:
        row = await session.get(Recording, int(raw))
        if row is None or row.deleted_at is not None:
            raise _not_found()
        call = None if row.call_id is None else await session.scalar(
            select(Call).where(Call.id == row.call_id).options(
                selectinload(Call.queue_attempts).selectinload(QueueAttempt.rings)))
        steps = call_timeline(call) if call is not None else []
        started = row.started_at
    return web.json_response({
        "recording_id": row.id, "started_at": started.isoformat(),
        "steps": [{"at": s.at.isoformat(), "offset_s": (s.at - started).total_seconds(),
                   "kind": s.kind, **s.facts} for s in steps]})


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text='{"error": "no such recording"}',
                            content_type="application/json")
