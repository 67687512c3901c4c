"""``/login`` (the form and its POST) and ``/logout``.

A failed login is logged with the user name only (never the password), and after
``LoginThrottle.limit`` failures in a minute that name is refused (429) without checking the
password, so guessing is slow whatever the password.
"""

from __future__ import annotations

import logging

from aiohttp import web

from clinicall.web.cookies import COOKIE_NAME, SessionClaims, encode_session
from clinicall.web.keys import AUTH, CLOCK, SESSIONS, THROTTLE
from clinicall.web.pages import login_page
from clinicall.web.users import check_password

log = logging.getLogger(__name__)

MAX_FIELD = 256


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another site, odd text) gives '/'."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value if value.isprintable() else "/"


async def login_form(request: web.Request) -> web.Response:
    page = login_page(next_path=safe_next(request.query.get("next")))
    return web.Response(text=page, content_type="text/html")


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))[:MAX_FIELD].strip()
    password = str(form.get("password", ""))[:MAX_FIELD]
    next_path = safe_next(str(form.get("next", "")))
    app = request.app
    now = app[CLOCK]()
    throttle = app[THROTTLE]
    if throttle.blocked(username, now):
        log.warning("login refused for user %r: too many failed attempts", username)
        page = login_page(next_path=next_path, username=username,
                          error="Too many failed attempts. Wait a minute and try again.")
        return web.Response(status=429, text=page, content_type="text/html")
    user = await check_password(app[SESSIONS], username, password)
    if user is None:
        throttle.failed(username, now)
        log.warning("failed login for user %r", username)
        page = login_page(next_path=next_path, username=username,
                          error="Wrong user name or password.")
        return web.Response(status=401, text=page, content_type="text/html")
    throttle.succeeded(username)
    auth = app[AUTH]
    expires = int((now + auth.session_ttl).timestamp())
    value = encode_session(auth.secret, SessionClaims(user.id, user.role.value, expires))
    log.info("user %r logged in", username)
    response = web.HTTPSeeOther(location=next_path)
    response.set_cookie(COOKIE_NAME, value, max_age=int(auth.session_ttl.total_seconds()),
                        path="/", httponly=True, samesite="Strict", secure=auth.cookie_secure)
    raise response


async def logout(_request: web.Request) -> web.Response:
    response = web.HTTPSeeOther(location="/login")
    response.del_cookie(COOKIE_NAME, path="/")
    raise response
