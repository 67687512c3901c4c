"""Every JSON API error has one shape: ``{"error": "<English sentence>", "code": "<stable
code>"}``.  Pages speak the viewer's language; the API speaks English to programs, and a
program branches on ``code``, never on the sentence (docs/web-security.md, "API errors").

The handlers raise or return ``{"error": ...}``; this middleware (the outermost) adds the code
of the status when a handler gave none, and turns aiohttp's plain-text 404/405 under
``/api/`` into the same shape.  Pure wording is left alone: only the shape is enforced here.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The code of each error status (a handler may give a narrower one of its own).
CODES: dict[int, str] = {
    400: "bad_request", 401: "login_required", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 416: "range_not_satisfiable",
    429: "too_many_requests", 500: "internal_error", 502: "engine_refused",
    503: "unavailable",
}


def api_error(kind: type[web.HTTPError], message: str, code: str) -> web.HTTPError:
    """An error with a code narrower than its status's (``unknown_queue`` rather than
    ``bad_request``), for a program to tell apart errors of one status."""
    return kind(text=json.dumps({"error": message, "code": code}),
                content_type="application/json")


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body; anything else is a 400 ``not_json_object``."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise api_error(web.HTTPBadRequest, "the body must be a JSON object", "not_json_object")
    return body


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def shaped(status: int, text: str | None) -> str:
    """The body as ``{"error", "code"}``: a JSON object's own fields kept, the missing added."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        reason = (text or "").split(": ", 1)[-1].strip() or "error"
        body = {"error": reason}
    body.setdefault("error", "error")
    body.setdefault("code", CODES.get(status, f"http_{status}"))
    return json.dumps(body)


@web.middleware
async def api_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_api(request):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        exc.text = shaped(exc.status, exc.text)
        exc.content_type = "application/json"
        raise
    if (response.status >= 400 and isinstance(response, web.Response)
            and response.content_type == "application/json" and response.text is not None):
        response.text = shaped(response.status, response.text)
    return response
