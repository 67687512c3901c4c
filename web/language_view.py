"""``GET /language?set=uk&next=/path``: the console's language for this browser (a cookie,
a year), then back to the page (a local path only).  Open to everybody: the login page has the
switch too, and a forged link changes nothing but the words (docs/console.md)."""

from __future__ import annotations

from aiohttp import web

from clinicall.web.auth_views import safe_next
from clinicall.web.i18n import LANG_COOKIE, LANGUAGES

YEAR_S = 365 * 24 * 3600


async def set_language(request: web.Request) -> web.Response:
    chosen = request.query.get("set", "")
    if chosen not in LANGUAGES:
        raise web.HTTPBadRequest(text="set: one of " + ", ".join(LANGUAGES))
    response = web.HTTPSeeOther(location=safe_next(request.query.get("next")))
    response.set_cookie(LANG_COOKIE, chosen, max_age=YEAR_S, path="/", samesite="Lax",
                        httponly=True)
    raise response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/language", set_language)
