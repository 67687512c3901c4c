"""Working a complaint case over HTTP (managers and quality reviewers), beside the list and
the steps of ``web.complaints_api``:

    GET  /api/complaints/{id}               the case file: the case, its participants (the
                                            config's ``complaints.participants``), every event,
                                            its calls and recordings, the reply sent
    POST /api/complaints/{id}/notes         {"note"}
    POST /api/complaints/{id}/reply         {"reply"}: what the patient was sent
    POST /api/complaints/{id}/owner         {"username"}: who runs the case
    POST /api/complaints/{id}/calls/by-number  {"number": E.164, "date": YYYY-MM-DD}: every
                                            call from that number on that day (the clinic's
                                            zone) and their recordings

The rules are :mod:`recordings.complaints`'; docs/recordings.md, "Complaint cases".
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import User
from clinicall.recordings import complaints
from clinicall.web.api_errors import api_error, json_object
from clinicall.web.complaints_api import case_id_of, case_view
from clinicall.web.keys import CLOCK, CONFIG, IDENTITY, SESSIONS

MAX_TEXT = 4000
E164 = re.compile(r"\+[1-9]\d{6,14}")


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TEXT:
        raise api_error(web.HTTPBadRequest, f"{key}: required, at most {MAX_TEXT} characters",
                        f"invalid_{key}")
    return value


async def case_file(request: web.Request) -> web.Response:
    case_id, now = case_id_of(request), request.app[CLOCK]()
    async with request.app[SESSIONS]() as session:
        try:
            found = await complaints.case_file(session, case_id)
        except complaints.CaseError:
            raise api_error(web.HTTPNotFound, "no such case", "no_such_case") from None
        names: dict[int, str] = {user_id: name for user_id, name in
                                 (await session.execute(select(User.id, User.username))).all()}
        case = found.case
        view = {**case_view(case, now), "phone": case.phone, "reply": case.reply,
                "resolution": case.resolution,
                "owner": names.get(case.owner_id) if case.owner_id else None,
                "participants": list(request.app[CONFIG].complaints.participants),
                "events": [{"at": e.at.isoformat(), "kind": e.kind, "note": e.note,
                            "by": names.get(e.user_id) if e.user_id else None}
                           for e in found.events],
                "calls": found.call_ids, "recordings": found.recording_ids}  # fmt: skip
    return web.json_response(view)


@dataclass(frozen=True, slots=True)
class _Work:
    """One write to a case: its session (in a transaction), the case, the instant, the user."""

    session: AsyncSession
    case_id: int
    now: datetime
    user_id: int


@asynccontextmanager
async def _case_work(request: web.Request) -> AsyncIterator[_Work]:
    """A transaction on the case named in the path; a case that is not there is a 404."""
    case_id, now, who = case_id_of(request), request.app[CLOCK](), request[IDENTITY]
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            yield _Work(session, case_id, now, who.user_id)
    except complaints.CaseError:
        raise api_error(web.HTTPNotFound, "no such case", "no_such_case") from None


OK = {"ok": True}


async def note(request: web.Request) -> web.Response:
    text = _text(await json_object(request), "note")
    async with _case_work(request) as w:
        await complaints.add_note(w.session, w.case_id, text, now=w.now, user_id=w.user_id)
    return web.json_response(OK)


async def reply(request: web.Request) -> web.Response:
    text = _text(await json_object(request), "reply")
    async with _case_work(request) as w:
        await complaints.record_reply(w.session, w.case_id, text, now=w.now, user_id=w.user_id)
    return web.json_response(OK)


async def owner(request: web.Request) -> web.Response:
    name = (await json_object(request)).get("username")
    async with _case_work(request) as w:
        user = (await w.session.scalar(select(User).where(User.username == name))
                if isinstance(name, str) else None)  # fmt: skip
        if user is None or not user.active:
            raise api_error(web.HTTPBadRequest, "username: an active user's name",
                            "unknown_user")
        await complaints.set_owner(w.session, w.case_id, user.id, user.username, now=w.now,
                                   user_id=w.user_id)
    return web.json_response(OK)


async def attach_by_number(request: web.Request) -> web.Response:
    body = await json_object(request)
    number, day = body.get("number"), body.get("date")
    if not isinstance(number, str) or not E164.fullmatch(number):
        raise api_error(web.HTTPBadRequest, "number: as the account stores it, E.164 "
                        "(e.g. +380671112233)", "invalid_number")
    try:
        local = date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        local = None
    if local is None:
        raise api_error(web.HTTPBadRequest, "date: YYYY-MM-DD", "invalid_date")
    zone = request.app[CONFIG].clinic.zone
    start = datetime.combine(local, time(), zone)
    end = datetime.combine(local + timedelta(days=1), time(), zone)
    async with _case_work(request) as w:
        calls = await complaints.calls_from(w.session, number, start, end)
        await complaints.case_file(w.session, w.case_id)  # the case exists
        linked = 0
        for call_id in calls:
            linked += await complaints.link_call(w.session, w.case_id, call_id, now=w.now,
                                                 user_id=w.user_id)
    return web.json_response({"calls": calls, "recordings_linked": linked})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/complaints/{id}", case_file)
    app.router.add_post("/api/complaints/{id}/notes", note)
    app.router.add_post("/api/complaints/{id}/reply", reply)
    app.router.add_post("/api/complaints/{id}/owner", owner)
    app.router.add_post("/api/complaints/{id}/calls/by-number", attach_by_number)
