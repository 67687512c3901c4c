"""Which query parameters each route takes: one table, checked before any handler runs.

A query the route does not take (an unknown name, a name given twice, a value too long or
holding control characters, text that is not valid UTF-8 once decoded) is a 400 with a message
naming the parameter, so no input reaches a handler that it was not written for; the handlers
then check what the values mean (``/api/kpi``'s dates and grouping: :mod:`web.reports_api`).
"""

from __future__ import annotations

import json

from aiohttp import web

from clinicall.web.access import Handler, wants_json
from clinicall.web.i18n import language_of, tr
from clinicall.web.pages import refused_page

#: The parameters each route takes (by its path); every other route takes none.
QUERY_PARAMETERS: dict[str, frozenset[str]] = {
    "/login": frozenset({"next"}),
    "/api/kpi": frozenset({"from", "to", "by"}),
    "/api/survey": frozenset({"from", "to", "by"}),
    "/api/demand": frozenset({"from", "to"}),
    "/api/reports/callbacks": frozenset({"from", "to"}),
    "/api/complaints/report": frozenset({"from", "to"}),
    "/api/staffing": frozenset({"from", "to", "sl", "t", "max_abandon"}),
    "/api/recordings": frozenset({"from", "to", "queue", "operator", "digits", "min_s",
                                  "max_s", "topic", "complaint"}),
    "/api/recordings/{id}/audio": frozenset({"listen"}),
    "/api/recordings/{id}/download": frozenset({"reason"}),
    "/api/audit": frozenset({"after"}),
    "/kiosk/wallboard": frozenset({"token"}),
    "/kiosk/ws": frozenset({"token"}),
    "/reports": frozenset({"from", "to", "period"}),
    "/language": frozenset({"set", "next"}),
    "/reports/download": frozenset({"from", "to", "period", "by", "format", "section"}),
    "/api/callbacks": frozenset({"state", "limit", "queue"}),
    "/api/appointments": frozenset({"date", "risk"}),
}
MAX_VALUE = 512
MAX_QUERY = 4096
REPLACEMENT = "\ufffd"


def query_problem(request: web.Request) -> str | None:
    """What is wrong with the request's query string for its route, or None."""
    if len(request.rel_url.raw_query_string) > MAX_QUERY:
        return f"the query string is longer than {MAX_QUERY} characters"
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else ""
    allowed = QUERY_PARAMETERS.get(path, frozenset())
    try:
        items = list(request.query.items())
    except (UnicodeError, ValueError):
        return "the query string is not valid UTF-8 text"
    if any(REPLACEMENT in name or REPLACEMENT in value for name, value in items):
        return "the query string is not valid UTF-8 text"  # what the URL parser put in its place
    seen: set[str] = set()
    for name, value in items:
        if name not in allowed:
            takes = ", ".join(sorted(allowed)) or "no parameters"
            return f"unknown query parameter {_shown(name)} (this address takes {takes})"
        if name in seen:
            return f"query parameter {name!r} is given more than once"
        seen.add(name)
        if len(value) > MAX_VALUE:
            return f"query parameter {name!r} is longer than {MAX_VALUE} characters"
        if not value.isprintable():
            return f"query parameter {name!r} holds control characters"
    return None


def _shown(name: str) -> str:
    """A peer-supplied name, short and escaped, fit to echo back."""
    return repr(name[:40] + ("…" if len(name) > 40 else ""))


@web.middleware
async def query_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(request)
    problem = query_problem(request)
    if problem is None:
        return await handler(request)
    if wants_json(request):
        raise web.HTTPBadRequest(text=json.dumps({"error": problem}),
                                 content_type="application/json")
    lang = language_of(request)  # the problem itself is technical: said as is
    raise web.HTTPBadRequest(text=refused_page(tr(lang, "bad_address", problem=problem), lang),
                             content_type="text/html")
