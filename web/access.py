"""Who may open what: one table of routes and roles, enforced by one middleware.

Every route is looked up in :data:`ACCESS` by its path; a route missing from the table is
refused to everybody (and logged), so a new page is private until someone decides otherwise.
Not logged in: 401 JSON for the API (and /metrics), a redirect to /login for pages.  Logged in
with a role not allowed: 403.  A request is authenticated by ``Authorization: Bearer <token>``
or by the session cookie (a random id looked up in the store, :mod:`web.session_store`);
either way the user must still exist and be active, and (for the cookie) still have the role
the session was opened with.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from clinicall.db.models import Role, User
from clinicall.web.cookies import COOKIE_NAME, cookie_value
from clinicall.web.i18n import language_of
from clinicall.web.keys import CLOCK, IDENTITY, SESSIONS, Identity
from clinicall.web.kiosk import kiosk_token_ok
from clinicall.web.pages import forbidden_page
from clinicall.web.session_store import find_session
from clinicall.web.users import user_by_token

log = logging.getLogger(__name__)

#: Open without a login (the login form itself and the stylesheet/script it needs).
PUBLIC = frozenset({"/login", "/assets/app.css", "/assets/dashboard.js",
                    "/assets/console.css", "/assets/wallboard.js", "/assets/operator.js",
                    "/assets/reports.js", "/assets/vendor/chart.umd.min.js", "/language"})
#: Open with the config's read-only kiosk token (``?token=``) instead of a login: a wall screen.
KIOSK = frozenset({"/kiosk/wallboard", "/kiosk/ws"})
STAFF = frozenset({Role.MANAGER, Role.QUALITY, Role.ADMIN})
EVERYONE = frozenset(Role)
#: Who may hear recordings (docs/recordings.md); downloading is checked on top of this.
REVIEWERS = frozenset({Role.MANAGER, Role.QUALITY})

#: The roles allowed on each non-public route.
ACCESS: dict[str, frozenset[Role]] = {
    "/logout": EVERYONE,
    "/logout/all": EVERYONE,
    "/": STAFF,
    "/ws/dashboard": STAFF,
    "/api/kpi": STAFF,
    "/api/survey": STAFF,
    "/api/demand": STAFF,
    "/api/staffing": STAFF,
    "/api/reports/callbacks": STAFF,
    "/api/live": STAFF | {Role.OPERATOR},
    "/metrics": frozenset({Role.MANAGER, Role.ADMIN}),
    "/api/recordings": REVIEWERS,
    "/api/recordings/{id}/listen": REVIEWERS,
    "/api/recordings/{id}/audio": REVIEWERS,
    "/api/recordings/{id}/download": REVIEWERS,
    "/api/recordings/{id}/notes": REVIEWERS,
    "/api/recordings/{id}/hold": REVIEWERS,
    "/api/recordings/{id}/timeline": REVIEWERS,
    "/api/recordings/{id}/hold/release": REVIEWERS,
    "/api/holds": REVIEWERS,
    "/recordings": REVIEWERS,
    "/assets/player.js": REVIEWERS,
    "/assets/wavesurfer-7.12.12.min.js": REVIEWERS,
    "/api/audit": frozenset({Role.ADMIN}),
    "/api/audit.csv": frozenset({Role.ADMIN}),
    "/api/complaints": REVIEWERS,
    "/api/complaints/{id}/state": REVIEWERS,
    "/api/complaints/{id}/calls": REVIEWERS,
    "/api/complaints/report": REVIEWERS,
    "/api/complaints/{id}": REVIEWERS,
    "/api/complaints/{id}/notes": REVIEWERS,
    "/api/complaints/{id}/reply": REVIEWERS,
    "/api/complaints/{id}/owner": REVIEWERS,
    "/api/complaints/{id}/calls/by-number": REVIEWERS,
    "/wallboard": EVERYONE,
    "/ws/wallboard": EVERYONE,
    "/operator": frozenset({Role.OPERATOR}),
    "/ws/operator": frozenset({Role.OPERATOR}),
    "/api/operator/queue": frozenset({Role.OPERATOR}),
    "/api/operator/pause": frozenset({Role.OPERATOR}),
    "/api/operator/disposition": frozenset({Role.OPERATOR}),
    "/api/operator/complaint": frozenset({Role.OPERATOR}),
    "/api/operator/calls": frozenset({Role.OPERATOR}),
    "/api/openapi.json": EVERYONE,
    "/admin": frozenset({Role.ADMIN}),
    "/admin/users": frozenset({Role.ADMIN}),
    "/admin/users/{user_id}": frozenset({Role.ADMIN}),
    "/admin/sessions/{session_id}": frozenset({Role.ADMIN}),
    "/account": EVERYONE,
    "/account/password": EVERYONE,
    # user administration as JSON (web.admin_api): what /admin and /account do
    "/api/users": frozenset({Role.ADMIN}),
    "/api/users/{user_id}": frozenset({Role.ADMIN}),
    "/api/sessions": frozenset({Role.ADMIN}),
    "/api/sessions/{session_id}/revoke": frozenset({Role.ADMIN}),
    "/api/account/password": EVERYONE,
    "/reports": STAFF,
    "/reports/download": STAFF,
    # callback jobs (web.callbacks_api): read by the desk, cancelled by managers
    "/api/callbacks": frozenset({Role.MANAGER, Role.ADMIN, Role.OPERATOR}),
    "/api/callbacks/{job}": frozenset({Role.MANAGER, Role.ADMIN, Role.OPERATOR}),
    "/api/callbacks/{job}/cancel": frozenset({Role.MANAGER, Role.ADMIN}),
    # appointments (web.appointments_api): read by the desk, written (PUT, idempotent by the
    # external id) by managers and admins: a booking system uses such a user's API token
    "/api/appointments": frozenset({Role.MANAGER, Role.ADMIN, Role.OPERATOR}),
    "/api/appointments/{external_id}": frozenset({Role.MANAGER, Role.ADMIN}),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/ws/")) or request.path == "/metrics"


async def identify(request: web.Request) -> Identity | None:
    """The user behind the request's Bearer token or session cookie, if any and valid."""
    header = request.headers.get("Authorization", "")
    async with request.app[SESSIONS]() as session:
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            user = await user_by_token(session, token.strip())
            return _identity(user) if user else None
        value = cookie_value(request, COOKIE_NAME)
        if value is None:
            return None
        live = await find_session(session, value, request.app[CLOCK]())
    if live is None:
        return None
    user = live.user
    return Identity(user.id, user.username, user.role, via_token=False,
                    session_key_hash=live.key_hash, csrf_token=live.csrf_token)


def _identity(user: User) -> Identity:
    return Identity(user.id, user.username, user.role, via_token=True)


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource is None or request.match_info.http_exception is not None:
        return await handler(request)  # 404 / 405: nothing behind it to protect
    path = resource.canonical
    if path in PUBLIC:
        return await handler(request)
    if path in KIOSK:
        if not kiosk_token_ok(request):
            raise web.HTTPNotFound()  # a wrong token learns nothing, not even that it exists
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
    # Only a page read comes back after login (a POST to /logout would come back as a GET).
    plain = target == "/" or request.method != "GET"
    query = "" if plain else "?" + urlencode({"next": target})
    return web.HTTPSeeOther(location=f"/login{query}")


def _forbidden(request: web.Request, identity: Identity | None) -> web.HTTPException:
    role = identity.role.value if identity else None
    if wants_json(request):
        text = '{"error": "forbidden for this role", "code": "forbidden_role"}'
        return web.HTTPForbidden(text=text, content_type="application/json")
    token = identity.csrf_token if identity and identity.csrf_token else ""
    return web.HTTPForbidden(text=forbidden_page(role, token, language_of(request)),
                             content_type="text/html")
