"""``/login`` (the form and its POST), ``/logout`` and ``/logout/all`` (POST only).

A failed login is logged with the user name only (never the password).  Failures are counted
by client address and by user name (:mod:`web.throttle`); a throttled attempt is refused (429,
with ``Retry-After`` and the wait in words) without checking the password.  A login opens a
server-side session (:mod:`web.session_store`); logging out deletes it, signing out everywhere
deletes all of the user's.  CSRF checks run before these handlers (:mod:`web.csrf`).
"""

from __future__ import annotations

import logging

from aiohttp import web

from clinicall.db.models import Role
from clinicall.web.cookies import (
    COOKIE_NAME,
    LOGIN_CSRF_COOKIE,
    LOGIN_FORM_TTL,
    clear_cookie,
    cookie_value,
    set_cookie,
)
from clinicall.web.csrf import genuine_login_token, new_login_token
from clinicall.web.i18n import language_of, tr
from clinicall.web.keys import AUTH, CLOCK, IDENTITY, SESSIONS, THROTTLE
from clinicall.web.pages import login_page
from clinicall.web.session_store import end_all_sessions, end_session, open_session
from clinicall.web.users import check_password

log = logging.getLogger(__name__)

MAX_FIELD = 256
MAX_NEXT = 512


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another site, odd text) gives '/'."""
    if not value or len(value) > MAX_NEXT:
        return "/"
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value if value.isprintable() else "/"


def client_address(request: web.Request) -> str:
    """The peer's address as this server sees it (a reverse proxy's own address when there
    is one: docs/web-security.md, "Throttle")."""
    return request.remote or "unknown"


def _login_token(request: web.Request) -> str:
    """The login form's CSRF token: the browser's current one if this app issued it (several
    tabs share one), else a new one."""
    secret = request.app[AUTH].secret
    current = cookie_value(request, LOGIN_CSRF_COOKIE)
    if current is not None and genuine_login_token(secret, current):
        return current
    return new_login_token(secret)


def _login_response(request: web.Request, *, status: int = 200, next_path: str,
                    username: str = "", error: str = "",
                    headers: dict[str, str] | None = None) -> web.Response:
    token = _login_token(request)
    plain_http = request.app[AUTH].cookie_secure and not request.secure
    page = login_page(next_path=next_path, csrf_token=token, username=username, error=error,
                      plain_http=plain_http, lang=language_of(request))
    response = web.Response(status=status, text=page, content_type="text/html",
                            headers=headers)
    set_cookie(response, LOGIN_CSRF_COOKIE, token, LOGIN_FORM_TTL,
               secure=request.app[AUTH].cookie_secure)
    return response


async def login_form(request: web.Request) -> web.Response:
    return _login_response(request, next_path=safe_next(request.query.get("next")))


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))[:MAX_FIELD].strip()
    password = str(form.get("password", ""))[:MAX_FIELD]
    next_path = safe_next(str(form.get("next", "")))
    app = request.app
    now = app[CLOCK]()
    throttle = app[THROTTLE]
    address = client_address(request)
    wait = throttle.wait(address, username, now)
    if wait is not None:  # logged once, when the lock began: a flood writes no more lines
        log.debug("login refused for user %r: too many failed attempts", username)
        return _login_response(
            request, status=429, next_path=next_path, username=username,
            error=tr(language_of(request), "too_many", n=wait),
            headers={"Retry-After": str(wait)})
    auth = app[AUTH]
    user = await check_password(app[SESSIONS], username, password, auth.password_cost)
    if user is None:
        throttle.failed(address, username, now)
        locked = throttle.wait(address, username, now)
        if locked is None:
            log.warning("failed login for user %r", username)
        else:
            log.warning("failed login for user %r: its address waits %d s before the next try",
                        username, locked)
        return _login_response(request, status=401, next_path=next_path, username=username,
                               error=tr(language_of(request), "wrong_password"))
    throttle.succeeded(address, username)
    opened = await open_session(app[SESSIONS], user, now, auth.session_ttl,
                                replaces=cookie_value(request, COOKIE_NAME))
    log.info("user %r logged in", username)
    if next_path == "/" and user.role == Role.OPERATOR:
        next_path = "/operator"  # the dashboard is the staff's; an operator's home is their desk
    response = web.HTTPSeeOther(location=next_path)
    set_cookie(response, COOKIE_NAME, opened.session_id, auth.session_ttl,
               secure=auth.cookie_secure)
    clear_cookie(response, LOGIN_CSRF_COOKIE)
    raise response


async def logout(request: web.Request) -> web.Response:
    """End this browser's session (its row is deleted at once)."""
    identity = request[IDENTITY]
    if identity.session_key_hash is not None:
        await end_session(request.app[SESSIONS], identity.session_key_hash)
    log.info("user %r logged out", identity.username)
    raise _to_login()


async def logout_everywhere(request: web.Request) -> web.Response:
    """End every session of the user, in every browser."""
    identity = request[IDENTITY]
    ended = await end_all_sessions(request.app[SESSIONS], identity.user_id)
    log.info("user %r signed out everywhere (%d sessions)", identity.username, ended)
    raise _to_login()


def _to_login() -> web.HTTPSeeOther:
    response = web.HTTPSeeOther(location="/login")
    clear_cookie(response, COOKIE_NAME)
    return response
