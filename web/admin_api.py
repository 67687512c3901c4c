"""User administration as JSON, for a program doing what ``/admin`` and ``/account`` do in
the browser (web.admin_pages), on the same store functions (web.admin_store) and the same
password policy; errors in the API's one shape with specific codes (docs/web-security.md,
"API errors").

- ``GET /api/users``: every user with role, whether active, and live session count (admin);
- ``POST /api/users`` ``{"username", "role", "password"}``: add one (admin; 201);
- ``POST /api/users/{user_id}`` ``{"action": "role"|"disable"|"enable"|"password", "role"?,
  "password"?}`` (admin): each ends the user's sessions; never on oneself;
- ``GET /api/sessions``: the live sessions (admin); ``POST /api/sessions/{id}/revoke``;
- ``POST /api/account/password`` ``{"current", "new"}``: one's own (any role); the other
  sessions end.
"""

from __future__ import annotations

from aiohttp import web

from clinicall.db.models import Role
from clinicall.web.admin_store import (
    live_sessions,
    password_matches,
    revoke_session,
    set_active,
    set_password,
    set_role,
    users_with_sessions,
)
from clinicall.web.api_errors import api_error, json_object
from clinicall.web.i18n import tr
from clinicall.web.keys import AUTH, CLOCK, IDENTITY, SESSIONS
from clinicall.web.password_policy import MIN_LENGTH, policy_problem
from clinicall.web.users import UserExistsError, add_user

MAX_FIELD = 256
ACTIONS = ("role", "disable", "enable", "password")


async def _body(request: web.Request) -> dict[str, str]:
    """The JSON object's string fields (each at most MAX_FIELD characters)."""
    body = await json_object(request)
    return {k: v[:MAX_FIELD] for k, v in body.items() if isinstance(v, str)}


def _check_password(password: str, username: str) -> None:
    problem = policy_problem(password, username)
    if problem:
        raise api_error(web.HTTPBadRequest, "password: " + tr("en", problem, n=MIN_LENGTH),
                        "weak_password")


def _role(raw: str) -> Role:
    try:
        return Role(raw)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise api_error(web.HTTPBadRequest, f"role: one of {roles}", "invalid_role") from None


def _id(request: web.Request, name: str, code: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise api_error(web.HTTPNotFound, "no such " + code.removeprefix("no_such_"),
                        code) from None


async def list_users(request: web.Request) -> web.Response:
    users = await users_with_sessions(request.app[SESSIONS])
    return web.json_response({"users": [
        {"id": u.id, "username": u.username, "role": u.role.value, "active": u.active,
         "sessions": n} for u, n in users]})


async def create_user(request: web.Request) -> web.Response:
    body = await _body(request)
    username = body.get("username", "").strip()
    if not username:
        raise api_error(web.HTTPBadRequest, "username: required", "invalid_username")
    role = _role(body.get("role", ""))
    _check_password(body.get("password", ""), username)
    try:
        made = await add_user(request.app[SESSIONS], username, role, body["password"],
                              cost=request.app[AUTH].password_cost)
    except UserExistsError:
        raise api_error(web.HTTPConflict, f"a user named {username!r} exists",
                        "user_exists") from None
    return web.json_response({"id": made.user.id, "username": username}, status=201)


async def change_user(request: web.Request) -> web.Response:
    user_id = _id(request, "user_id", "no_such_user")
    body = await _body(request)
    if user_id == request[IDENTITY].user_id:
        raise api_error(web.HTTPBadRequest, "not on yourself: change your own password with "
                        "/api/account/password", "not_yourself")
    sessions, action = request.app[SESSIONS], body.get("action", "")
    if action == "role":
        done = await set_role(sessions, user_id, _role(body.get("role", "")))
    elif action in ("disable", "enable"):
        done = await set_active(sessions, user_id, action == "enable")
    elif action == "password":
        names = {u.id: u.username for u, _ in await users_with_sessions(sessions)}
        _check_password(body.get("password", ""), names.get(user_id, ""))
        done = await set_password(sessions, user_id, body["password"],
                                  request.app[AUTH].password_cost)
    else:
        raise api_error(web.HTTPBadRequest, f"action: one of {', '.join(ACTIONS)}",
                        "invalid_action")
    if not done:
        raise api_error(web.HTTPNotFound, "no such user", "no_such_user")
    return web.json_response({"ok": True})


async def list_sessions(request: web.Request) -> web.Response:
    rows = await live_sessions(request.app[SESSIONS], request.app[CLOCK]())
    return web.json_response({"sessions": [
        {"id": s.id, "username": s.username, "role": s.role,
         "created_at": s.created_at.isoformat(), "last_seen_at": s.last_seen_at.isoformat(),
         "expires_at": s.expires_at.isoformat()} for s in rows]})


async def revoke(request: web.Request) -> web.Response:
    session_id = _id(request, "session_id", "no_such_session")
    if not await revoke_session(request.app[SESSIONS], session_id):
        raise api_error(web.HTTPNotFound, "no such session", "no_such_session")
    return web.json_response({"ok": True})


async def own_password(request: web.Request) -> web.Response:
    body, identity = await _body(request), request[IDENTITY]
    sessions = request.app[SESSIONS]
    if not await password_matches(sessions, identity.user_id, body.get("current", "")):
        raise api_error(web.HTTPBadRequest, "current: not your password", "wrong_password")
    _check_password(body.get("new", ""), identity.username)
    await set_password(sessions, identity.user_id, body["new"],
                       request.app[AUTH].password_cost, keep=identity.session_key_hash)
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", create_user)
    app.router.add_post("/api/users/{user_id}", change_user)
    app.router.add_get("/api/sessions", list_sessions)
    app.router.add_post("/api/sessions/{session_id}/revoke", revoke)
    app.router.add_post("/api/account/password", own_password)
