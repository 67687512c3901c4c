"""Who may open what: one table of routes and roles, enforced by one middleware.

Every route is looked up in :data:`ACCESS` by its path; a route missing from the table is
refused to everybody (and logged), so a new page is private until someone decides otherwise.
Not logged in: 401 JSON for the API (and /metrics), a redirect to /login for pages.  Logged in
with a role not allowed: 403.  A request is authenticated by ``Authorization: Bearer <token>``
or by the signed session cookie; either way the user must still exist, be active, and (for the
cookie) still have the role the cookie names.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from clinicall.db.models import Role, User
from clinicall.web.cookies import COOKIE_NAME, decode_session
from clinicall.web.keys import AUTH, CLOCK, IDENTITY, SESSIONS, Identity
from clinicall.web.pages import forbidden_page
from clinicall.web.users import active_user, user_by_token

log = logging.getLogger(__name__)

#: Open without a login (the login form itself and the stylesheet/script it needs).
PUBLIC = frozenset({"/login", "/logout", "/assets/app.css", "/assets/dashboard.js"})
STAFF = frozenset({Role.MANAGER, Role.QUALITY, Role.ADMIN})

#: The roles allowed on each non-public route.
ACCESS: dict[str, frozenset[Role]] = {
    "/": STAFF,
    "/api/kpi": STAFF,
    "/api/live": STAFF | {Role.OPERATOR},
    "/metrics": frozenset({Role.MANAGER, Role.ADMIN}),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/metrics"


async def identify(request: web.Request) -> Identity | None:
    """The user behind the request's Bearer token or session cookie, if any and valid."""
    header = request.headers.get("Authorization", "")
    async with request.app[SESSIONS]() as session:
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            user = await user_by_token(session, token.strip())
            return _identity(user, via_token=True) if user else None
        value = request.cookies.get(COOKIE_NAME)
        if not value:
            return None
        claims = decode_session(request.app[AUTH].secret, value, request.app[CLOCK]())
        if claims is None:
            return None
        user = await active_user(session, claims.user_id)
    if user is None or user.role.value != claims.role:
        return None
    return _identity(user, via_token=False)


def _identity(user: User, *, via_token: bool) -> Identity:
    return Identity(user.id, user.username, user.role, via_token)


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource is None or request.match_info.http_exception is not None:
        return await handler(request)  # 404 / 405: nothing behind it to protect
    path = resource.canonical
    if path in PUBLIC:
        return await handler(request)
    rule = ACCESS.get(path)
    if rule is None:
        log.error("route %s has no access rule: refused to everybody", path)
        raise _forbidden(request, None)
    identity = await identify(request)
    if identity is None:
        raise _unauthorized(request)
    if identity.role not in rule:
        raise _forbidden(request, identity)
    request[IDENTITY] = identity
    return await handler(request)


def _unauthorized(request: web.Request) -> web.HTTPException:
    if wants_json(request) or "Authorization" in request.headers:
        return web.HTTPUnauthorized(
            text='{"error": "login required"}',
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="clinicall"'},
        )
    target = request.rel_url.path_qs
    query = "" if target == "/" else "?" + urlencode({"next": target})
    return web.HTTPSeeOther(location=f"/login{query}")


def _forbidden(request: web.Request, identity: Identity | None) -> web.HTTPException:
    role = identity.role.value if identity else None
    if wants_json(request):
        text = '{"error": "forbidden for this role"}'
        return web.HTTPForbidden(text=text, content_type="application/json")
    return web.HTTPForbidden(text=forbidden_page(role), content_type="text/html")
