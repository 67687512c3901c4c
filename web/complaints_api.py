"""Complaint cases over HTTP for managers and quality reviewers, and their overdue counts on
``/metrics`` (``clinicall_complaints_overdue{deadline="acknowledge|resolve"}``).

    GET  /api/complaints                      the cases, newest first, each with ``overdue``
    POST /api/complaints                      {"summary", "phone"?, "call_id"?, "topic"?}
    POST /api/complaints/{id}/state           {"state": next state, "note"?}
    POST /api/complaints/{id}/calls           {"call_id"}: the call and its recordings

The rules are :mod:`recordings.complaints`'; docs/recordings.md, "Complaint cases".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Complaint, ComplaintState
from clinicall.recordings import complaints
from clinicall.web.api_errors import json_object
from clinicall.web.keys import CLOCK, CONFIG, IDENTITY, SESSIONS
from clinicall.web.reports_api import METRICS_EXTRA

MAX_LIST = 200


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/complaints", list_cases)
    app.router.add_post("/api/complaints", create_case)
    app.router.add_post("/api/complaints/{id}/state", change_state)
    app.router.add_post("/api/complaints/{id}/calls", attach_call)
    app[METRICS_EXTRA] = [*app.get(METRICS_EXTRA, []), OverdueCollector(app[SESSIONS])]


class OverdueCollector:
    """Overdue cases per deadline, counted at each scrape."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.counts = complaints.Overdue(0, 0)

    async def refresh(self, now: datetime) -> None:
        async with self.sessions() as session:
            self.counts = await complaints.overdue(session, now)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("clinicall_complaints_overdue",
                                  "Complaint cases past their deadline now", labels=["deadline"])
        gauge.add_metric(["acknowledge"], self.counts.acknowledge)
        gauge.add_metric(["resolve"], self.counts.resolve)
        yield gauge


def _bad(problem: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": problem}),
                              content_type="application/json")


def case_id_of(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound(text='{"error": "no such case"}', content_type="application/json")
    return int(raw)


def case_view(case: Complaint, now: datetime) -> dict[str, Any]:
    return {"id": case.id, "state": case.state.value, "summary": case.summary,
            "topic": case.topic, "owner_id": case.owner_id,
            "opened_at": case.opened_at.isoformat(), "due_at": case.due_at.isoformat(),
            "acknowledge_due_at": case.acknowledge_due_at.isoformat()
            if case.acknowledge_due_at else None,
            "overdue": complaints.is_overdue(case, now)}  # fmt: skip


async def list_cases(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    async with request.app[SESSIONS]() as session:
        cases = await session.scalars(select(Complaint).order_by(Complaint.opened_at.desc())
                                      .limit(MAX_LIST))
        return web.json_response({"complaints": [case_view(c, now) for c in cases]})


async def create_case(request: web.Request) -> web.Response:
    body = await json_object(request)
    summary, topic, phone = body.get("summary"), body.get("topic"), body.get("phone")
    call_id = body.get("call_id")
    if not isinstance(summary, str) or not 0 < len(summary.strip()) <= 4000:
        raise _bad("summary: required, at most 4000 characters")
    if topic is not None and (not isinstance(topic, str) or len(topic) > 64):
        raise _bad("topic: at most 64 characters")
    if phone is not None and (not isinstance(phone, str) or len(phone) > 32):
        raise _bad("phone: at most 32 characters")
    if call_id is not None and (not isinstance(call_id, int) or isinstance(call_id, bool)):
        raise _bad("call_id: a call's id")
    now = request.app[CLOCK]()
    who = request[IDENTITY]
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            case = await complaints.open_case(
                session, request.app[CONFIG].complaints, summary=summary, now=now,
                phone=phone, call_id=call_id, topic=topic, owner_id=who.user_id,
                user_id=who.user_id)
            view = case_view(case, now)
    except complaints.CaseError as exc:
        raise _bad(str(exc)) from None
    return web.json_response(view, status=201)


async def change_state(request: web.Request) -> web.Response:
    case_id = case_id_of(request)
    body = await json_object(request)
    try:
        state = ComplaintState(str(body.get("state")))
    except ValueError:
        raise _bad("state: one of " + ", ".join(s.value for s in ComplaintState)) from None
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > 4000:
        raise _bad("note: at most 4000 characters")
    now = request.app[CLOCK]()
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            case = await complaints.advance(session, case_id, state, now=now,
                                            user_id=request[IDENTITY].user_id, note=note)
            view = case_view(case, now)
    except complaints.CaseError as exc:
        raise _bad(str(exc)) from None
    return web.json_response(view)


async def attach_call(request: web.Request) -> web.Response:
    case_id = case_id_of(request)
    body = await json_object(request)
    call_id = body.get("call_id")
    if not isinstance(call_id, int) or isinstance(call_id, bool):
        raise _bad("call_id: a call's id")
    now = request.app[CLOCK]()
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            if await session.get(Complaint, case_id) is None:
                raise web.HTTPNotFound(text='{"error": "no such case"}',
                                       content_type="application/json")
            linked = await complaints.link_call(session, case_id, call_id, now=now,
                                                user_id=request[IDENTITY].user_id)
    except complaints.CaseError as exc:
        raise _bad(str(exc)) from None
    return web.json_response({"recordings_linked": linked})
