"""``POST /api/operator/complaint`` ``{"call_id": the call's id from the screen-pop,
"note"?: text}``: the operator's "this call is a complaint" (operators only; the operator
page calls it).  201 with the new case, 200 with the case the call already had, 409 when the
call is not in the account yet, another operator took it, or the user is no operator of the
config (recordings.complaint_flags)."""

from __future__ import annotations

import json

from aiohttp import web

from clinicall.recordings.complaint_flags import MAX_NOTE, FlagRefused, flag_call
from clinicall.web.api_errors import json_object
from clinicall.web.keys import CLOCK, CONFIG, IDENTITY, SESSIONS
from clinicall.web.operator_view import operator_of


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/operator/complaint", flag)


async def flag(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    who = request[IDENTITY]
    operator = operator_of(config, who.username)
    if operator is None:
        # the role allows it: the config lacks this operator (an administrator's fix), 409
        raise _error(web.HTTPConflict, "no operator with this id in the config")
    body = await json_object(request)
    call_id, note = body.get("call_id"), body.get("note", "")
    if not isinstance(call_id, str) or not call_id or len(call_id) > 64:
        raise _error(web.HTTPBadRequest, "call_id: the call's id from the screen-pop")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise _error(web.HTTPBadRequest, f"note: text up to {MAX_NOTE} characters")
    try:
        async with request.app[SESSIONS].begin() as session:
            flagged = await flag_call(session, config.complaints, call_key=call_id,
                                      operator_id=operator.id, note=note,
                                      now=request.app[CLOCK](), user_id=who.user_id)
    except FlagRefused as exc:
        raise _error(web.HTTPConflict, str(exc)) from None
    return web.json_response({"case_id": flagged.case_id, "opened": flagged.opened},
                             status=201 if flagged.opened else 200)


def _error(cls: type[web.HTTPError], message: str) -> web.HTTPError:
    return cls(text=json.dumps({"error": message}), content_type="application/json")
