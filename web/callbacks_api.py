"""The callback jobs as JSON for the console: list, one job with its attempts, cancel.

Roles (:mod:`web.access`): managers, admins and operators read; managers and admins cancel.
The patient's number is shown whole only to managers and admins (they call patients about a
failed callback); operators and everyone else get it masked (clinicall.privacy), as the logs
do.  ``GET /api/callbacks?state=pending,claimed&queue=therapy&limit=50`` (``state``, ``queue``:
comma-separated; the operator's page asks for the jobs of the operator's queues),
``GET /api/callbacks/{id}``, ``POST /api/callbacks/{id}/cancel``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from clinicall.db.callbacks import AttemptRow, CallbackStore, JobRow
from clinicall.db.models import Role
from clinicall.privacy import mask_number
from clinicall.web.keys import CLOCK, IDENTITY, SESSIONS

READERS = frozenset({Role.MANAGER, Role.ADMIN, Role.OPERATOR})
CANCELLERS = frozenset({Role.MANAGER, Role.ADMIN})
FULL_NUMBERS = frozenset({Role.MANAGER, Role.ADMIN})
STATES = frozenset({"pending", "claimed", "done", "failed", "cancelled"})
MAX_LIMIT = 500
MAX_QUEUES = 50


def _store(request: web.Request) -> CallbackStore:
    return CallbackStore(request.app[SESSIONS], owner="web", lease=timedelta(0))


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f'{{"error": "{message}"}}', content_type="application/json")


def job_json(job: JobRow, *, full: bool) -> dict[str, Any]:
    return {"id": job.id, "state": job.state, "reason": job.reason, "queue": job.queue,
            "phone": job.phone if full else mask_number(job.phone),
            "arrived_at": job.arrived_at.isoformat(), "due_at": job.due_at.isoformat(),
            "attempts": job.attempts, "result": job.result, "priority": job.priority,
            "origin_call_id": job.origin_call_id}  # fmt: skip


def attempt_json(attempt: AttemptRow) -> dict[str, Any]:
    return {"number": attempt.number, "started_at": attempt.started_at.isoformat(),
            "agent": attempt.agent, "outcome": attempt.outcome}  # fmt: skip


def _full(request: web.Request) -> bool:
    return bool(request[IDENTITY].role in FULL_NUMBERS)


def _job_id(request: web.Request) -> int:
    text = request.match_info["job"]
    if not text.isdigit() or len(text) > 12:
        raise _bad("the job id is a number")
    return int(text)


async def list_jobs(request: web.Request) -> web.Response:
    states = [s for s in request.query.get("state", "").split(",") if s]
    if any(state not in STATES for state in states):
        raise _bad("state is one of: " + ", ".join(sorted(STATES)))
    limit_text = request.query.get("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise _bad(f"limit is a number from 1 to {MAX_LIMIT}")
    queues = [q for q in request.query.get("queue", "").split(",") if q]
    if len(queues) > MAX_QUEUES or any(len(q) > 64 for q in queues):
        raise _bad(f"queue: at most {MAX_QUEUES} queue ids")
    jobs = await _store(request).jobs(states=states, limit=int(limit_text), queues=queues)
    full = _full(request)
    return web.json_response({"jobs": [job_json(job, full=full) for job in jobs]})


async def show_job(request: web.Request) -> web.Response:
    store = _store(request)
    job = await store.job(_job_id(request))
    if job is None:
        raise web.HTTPNotFound(text='{"error": "no such callback job"}',
                               content_type="application/json")  # fmt: skip
    attempts = [attempt_json(a) for a in await store.attempts(job.id)]
    return web.json_response({"job": job_json(job, full=_full(request)), "attempts": attempts})


async def cancel_job(request: web.Request) -> web.Response:
    store = _store(request)
    job_id = _job_id(request)
    if await store.job(job_id) is None:
        raise web.HTTPNotFound(text='{"error": "no such callback job"}',
                               content_type="application/json")  # fmt: skip
    if not await store.cancel(job_id, now=request.app[CLOCK]()):
        raise web.HTTPConflict(text='{"error": "only an open job can be cancelled"}',
                               content_type="application/json")  # fmt: skip
    return web.json_response({"cancelled": job_id})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/callbacks", list_jobs)
    app.router.add_get("/api/callbacks/{job}", show_job)
    app.router.add_post("/api/callbacks/{job}/cancel", cancel_job)
