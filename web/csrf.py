"""Cross-site request forgery: every state-changing request must come from this site's pages.

Two checks on every POST, PUT, PATCH and DELETE a browser sends (docs/web-security.md, "CSRF"):

- **Origin**: when the request names where it comes from (``Origin``, else ``Referer``), that
  must be this site: the same host and port as the request's ``Host``.  A browser always sends
  ``Origin`` on a cross-site POST, so a form on another site is refused here; so is
  ``Origin: null`` (a sandboxed frame, a ``data:`` page).  The app's pages use the referrer
  policy ``same-origin``: under ``no-referrer`` a browser sends ``null`` for the app's own
  forms too.  A request naming neither (a script, a client without those headers) is left to
  the token.
- **Token**: a logged-in request carries its session's synchronizer token (``web_sessions.
  csrf_token``) in the form field ``csrf_token`` or the ``X-CSRF-Token`` header (for fetch).
  The login form has no session yet: it carries a token that is also in its own cookie
  (double submit), signed with the app's secret so that only a value this app issued counts.

A request authenticated by ``Authorization: Bearer`` is exempt: a browser never adds that
header on its own, so another site cannot make one, and it carries no cookie to abuse.
Failures are 403 with a message that says what was missing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets

from aiohttp import web
from yarl import URL

from clinicall.web.access import Handler, wants_json
from clinicall.web.cookies import LOGIN_CSRF_COOKIE, cookie_value
from clinicall.web.i18n import language_of, tr
from clinicall.web.keys import AUTH, IDENTITY
from clinicall.web.pages import refused_page

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PATH = "/login"
MAX_TOKEN = 128


def _sign(secret: bytes, nonce: str) -> str:
    digest = hmac.new(secret, nonce.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_login_token(secret: bytes) -> str:
    """A token for the login form and its cookie: ``<nonce>.<HMAC of the nonce>``."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(secret, nonce)}"


def genuine_login_token(secret: bytes, value: str) -> bool:
    """Whether ``value`` is a login token this app (with this secret) issued."""
    nonce, dot, signature = value.partition(".")
    if not (dot and nonce.isascii() and signature.isascii()):
        return False
    return hmac.compare_digest(_sign(secret, nonce).encode(), signature.encode())


def same_site(request: web.Request) -> bool:
    """Whether the request's Origin (else Referer) names this site; True when it names none."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None:
        return True
    try:
        url = URL(source)
        host = url.raw_host
    except (ValueError, TypeError):
        return False
    if url.scheme not in ("http", "https") or not host:
        return False  # "null" (a sandboxed frame, a file) or garbage
    if ":" in host:
        host = f"[{host}]"
    authority = f"{host}:{url.explicit_port}" if url.explicit_port is not None else host
    return authority.lower() == request.host.lower()


def _equal(given: str | None, expected: str | None) -> bool:
    if not given or not expected or len(given) > MAX_TOKEN:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


async def _given_token(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Runs after ``access_middleware`` (it needs the request's identity)."""
    if request.method not in UNSAFE_METHODS or request.match_info.http_exception is not None:
        return await handler(request)
    identity = request.get(IDENTITY)
    if identity is not None and identity.via_token:
        return await handler(request)
    if not same_site(request):
        raise _refused(request, "refused_other_site")
    given = await _given_token(request)
    if identity is not None:
        if not _equal(given, identity.csrf_token):
            raise _refused(request, "refused_csrf_token")
    elif request.match_info.route.resource is not None and (
            request.match_info.route.resource.canonical == LOGIN_PATH):
        cookie = cookie_value(request, LOGIN_CSRF_COOKIE)
        if not (_equal(given, cookie) and cookie is not None
                and genuine_login_token(request.app[AUTH].secret, cookie)):
            raise _refused(request, "refused_login_form")
    else:
        raise _refused(request, "refused_needs_login")
    return await handler(request)


def _refused(request: web.Request, reason: str) -> web.HTTPForbidden:
    """``reason``: the catalogue key of the refusal (web/i18n.py): English for the API, the
    user's language on the page."""
    resource = request.match_info.route.resource
    log.warning("CSRF check refused %s %s", request.method,
                resource.canonical if resource is not None else "?")
    if wants_json(request):
        return web.HTTPForbidden(text=json.dumps({"error": tr("en", reason), "code": reason}),
                                 content_type="application/json")  # the key is the code
    lang = language_of(request)
    return web.HTTPForbidden(text=refused_page(tr(lang, reason), lang),
                             content_type="text/html")
