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
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

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


async def _write(request: web.Request, step: str, body: Mapping[str, Any]) -> web.Response:
    case_id, now, who = case_id_of(request), request.app[CLOCK](), request[IDENTITY]
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            if step == "note":
                await complaints.add_note(session, case_id, _text(body, "note"), now=now,
                                          user_id=who.user_id)
            elif step == "reply":
                await complaints.record_reply(session, case_id, _text(body, "reply"), now=now,
                                              user_id=who.user_id)
            else:
                name = body.get("username")
                owner = (await session.scalar(select(User).where(User.username == name))
                         if isinstance(name, str) else None)  # fmt: skip
                if owner is None or not owner.active:
                    raise api_error(web.HTTPBadRequest, "username: an active user's name",
                                    "unknown_user")
                await complaints.set_owner(session, case_id, owner.id, owner.username,
                                           now=now, user_id=who.user_id)
    except complaints.CaseError:
        raise api_error(web.HTTPNotFound, "no such case", "no_such_case") from None
    return web.json_response({"ok": True})


async def note(request: web.Request) -> web.Response:
    return await _write(request, "note", await json_object(request))


async def reply(request: web.Request) -> web.Response:
    return await _write(request, "reply", await json_object(request))


async def owner(request: web.Request) -> web.Response:
    return await _write(request, "owner", await json_object(request))


async def attach_by_number(request: web.Request) -> web.Response:
    case_id, body = case_id_of(request), await json_object(request)
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
    zone, now, who = request.app[CONFIG].clinic.zone, request.app[CLOCK](), request[IDENTITY]
    start = datetime.combine(local, time(), zone)
    end = datetime.combine(local + timedelta(days=1), time(), zone)
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            calls = await complaints.calls_from(session, number, start, end)
            await complaints.case_file(session, case_id)  # the case exists
            linked = 0
            for call_id in calls:
                linked += await complaints.link_call(session, case_id, call_id, now=now,
                                                     user_id=who.user_id)
    except complaints.CaseError:
        raise api_error(web.HTTPNotFound, "no such case", "no_such_case") from None
    return web.json_response({"calls": calls, "recordings_linked": linked})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/complaints/{id}", case_file)
    app.router.add_post("/api/complaints/{id}/notes", note)
    app.router.add_post("/api/complaints/{id}/reply", reply)
    app.router.add_post("/api/complaints/{id}/owner", owner)
    app.router.add_post("/api/complaints/{id}/calls/by-number", attach_by_number)
