"""``GET /api/recordings/{id}/timeline`` (manager and quality roles): the call behind the
recording, step by step (recordings.timeline), each step with ``offset_s`` from the start of
the recording (negative before it: the IVR, the wait) so the player can mark it.  Shows no
audio and no number, so it is not an access to audit.  Queue names, the route and the IVR path
are also given in words (``queue_name``, ``route_words``, ``path_words``) in the viewer's
language, as the console shows them.  docs/recordings.md."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinicall.db.models import Call, QueueAttempt, Recording
from clinicall.recordings.timeline import Step, call_timeline
from clinicall.settings.models import ClinicConfig
from clinicall.web.i18n import language_of
from clinicall.web.keys import CONFIG, SESSIONS
from clinicall.web.live import queue_name
from clinicall.web.operator_view import path_in_words, route_in_words


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
    config, lang = request.app[CONFIG], language_of(request)
    return web.json_response({
        "recording_id": row.id, "started_at": started.isoformat(),
        "steps": [{"at": s.at.isoformat(), "offset_s": (s.at - started).total_seconds(),
                   "kind": s.kind, **s.facts, **_words(config, s, lang)} for s in steps]})


def _words(config: ClinicConfig, step: Step, lang: str) -> dict[str, str]:
    """The step's ids as an operator reads them, in the viewer's language."""
    words: dict[str, str] = {}
    queue = step.facts.get("queue")
    if isinstance(queue, str):
        words["queue_name"] = queue_name(config, queue, lang)
    route, path = step.facts.get("route"), step.facts.get("path")
    if isinstance(route, str):
        words["route_words"] = route_in_words(config, route, lang)
    if isinstance(path, str):
        words["path_words"] = path_in_words(config, path, lang)
    return words


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text='{"error": "no such recording"}',
                            content_type="application/json")
