"""The web console's two cookies: the session id and the login form's CSRF token.

The session cookie holds only a random session id (``web.session_store``): who is logged in,
with which role and until when is in the store, so ending a session there ends it for the
cookie at once.  Both cookies are HttpOnly and SameSite=Strict, Secure when the app serves
(or sits behind) TLS.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

COOKIE_NAME = "clinicall_session"
LOGIN_CSRF_COOKIE = "clinicall_login_csrf"
MIN_SECRET_BYTES = 32
#: A cookie value longer than this is no id this app issued (its ids are 43 characters).
MAX_COOKIE_VALUE = 128
LOGIN_FORM_TTL = timedelta(hours=1)


def cookie_value(request: web.Request, name: str) -> str | None:
    """The cookie's value when it could be one this app issued (short ASCII), else None."""
    value = request.cookies.get(name)
    if not value or len(value) > MAX_COOKIE_VALUE or not value.isascii():
        return None
    return value


def set_cookie(response: web.StreamResponse, name: str, value: str, ttl: timedelta, *,
               secure: bool) -> None:
    response.set_cookie(name, value, max_age=int(ttl.total_seconds()), path="/",
                        httponly=True, samesite="Strict", secure=secure)


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/")
