"""Admin in the browser (``/admin``, admin role) and one's own password (``/account``, any
role).  Plain forms, each with its CSRF token (docs/web-security.md); each POST answers with the
page again and a line saying what was done or why not.

- ``POST /admin/users``: add a user (name, role, password under the policy);
- ``POST /admin/users/{user_id}``: ``action`` = ``role`` (with ``role``), ``disable``,
  ``enable`` or ``password`` (with ``password``); each ends the user's sessions;
- ``POST /admin/sessions/{session_id}``: revoke one session;
- ``POST /account/password``: ``current``, ``new``, ``repeat``; the other sessions end.

An admin cannot change their own role or disable themselves here (so the console never loses
its last admin by a click); their own password is changed on ``/account``.
"""

from __future__ import annotations

from datetime import datetime

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
from clinicall.web.audit_api import newest
from clinicall.web.i18n import Lang, language_of, tr
from clinicall.web.keys import AUTH, CLOCK, CONFIG, IDENTITY, SESSIONS
from clinicall.web.pages import csrf_input, esc, language_links, layout, logout_forms
from clinicall.web.password_policy import MIN_LENGTH, policy_problem
from clinicall.web.users import UserExistsError, add_user

MAX_FIELD = 256
#: The access audit's newest rows shown on the page (the whole is the CSV export).
AUDIT_ROWS = 50


def _weak(lang: Lang, password: str, username: str) -> str | None:
    problem = policy_problem(password, username)
    return tr(lang, "weak_password", why=tr(lang, problem, n=MIN_LENGTH)) if problem else None


def _frame(request: web.Request, title: str, here: str, main: str, message: str) -> str:
    identity, lang = request[IDENTITY], language_of(request)
    token = identity.csrf_token or ""
    note = f'<p class="notice" role="status">{esc(message)}</p>' if message else ""
    body = f"""
<header><div><h1>{esc(title)}</h1></div>
  <div class="who">{language_links(lang, here)}
  <span>{esc(identity.username)} ({esc(identity.role.value)})</span>
  {logout_forms(token, lang) if token else ""}</div>
</header>
<main class="admin">{note}{main}</main>"""
    return layout(f"{title} — clinicall", body, csrf_token=token, lang=lang,
                  styles=("/assets/console.css",))


def _role_options(current: Role, lang: Lang) -> str:
    return "".join(f'<option value="{r.value}"{" selected" if r == current else ""}>'
                   f"{esc(r.value)}</option>" for r in Role)


async def admin_page(request: web.Request, message: str = "",
                     status: int = 200) -> web.Response:
    lang, identity = language_of(request), request[IDENTITY]
    token = identity.csrf_token or ""
    sessions = request.app[SESSIONS]
    rows = []
    for user, count in await users_with_sessions(sessions):
        own = user.id == identity.user_id
        action = f'action="/admin/users/{user.id}" method="post"'
        controls = "" if own else (
            f'<form {action}>{csrf_input(token)}<input type="hidden" name="action" value="role">'
            f'<select name="role" aria-label="{esc(tr(lang, "role"))}">'
            f"{_role_options(user.role, lang)}</select>"
            f'<button type="submit">{esc(tr(lang, "change"))}</button></form>'
            f'<form {action}>{csrf_input(token)}<input type="hidden" name="action" '
            f'value="{"disable" if user.active else "enable"}"><button type="submit">'
            f'{esc(tr(lang, "disable" if user.active else "enable"))}</button></form>')
        reset = (f'<form {action}>{csrf_input(token)}'
                 '<input type="hidden" name="action" value="password">'
                 f'<input type="password" name="password" autocomplete="new-password" '
                 f'minlength="{MIN_LENGTH}" aria-label="{esc(tr(lang, "reset_password"))}">'
                 f'<button type="submit">{esc(tr(lang, "reset_password"))}</button></form>')
        rows.append(f'<tr data-user="{esc(user.username)}"><th scope="row">'
                    f"{esc(user.username)}</th><td>{esc(user.role.value)}</td>"
                    f'<td>{esc(tr(lang, "yes" if user.active else "no"))}</td><td>{count}</td>'
                    f'<td class="controls">{controls}{"" if own else reset}</td></tr>')
    zone = request.app[CONFIG].clinic.zone

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    live = await live_sessions(sessions, request.app[CLOCK]())
    session_rows = "".join(
        f'<tr data-session="{s.id}"><th scope="row">{esc(s.username)}</th>'
        f"<td>{esc(s.role)}</td><td>{local(s.created_at)}</td><td>{local(s.last_seen_at)}</td>"
        f"<td>{local(s.expires_at)}</td><td>"
        f'<form method="post" action="/admin/sessions/{s.id}">{csrf_input(token)}'
        f'<button type="submit">{esc(tr(lang, "revoke"))}</button></form></td></tr>'
        for s in live)
    heads = "".join(f"<th>{esc(tr(lang, k))}</th>"
                    for k in ("user_name", "role", "active", "sessions"))
    session_heads = "".join(f"<th>{esc(tr(lang, k))}</th>" for k in
                            ("user_name", "role", "started", "last_seen", "expires"))
    audit_rows = "".join(
        f'<tr data-audit="{a.id}"><td>{local(a.at)}</td><td>{esc(name or "—")}</td>'
        f"<td>{esc(a.action.value)}</td><td>#{a.recording_id or ''}</td>"
        f"<td>{esc(a.remote_addr or '')}</td><td>{esc(a.reason or '')}</td></tr>"
        for a, name in await newest(request, AUDIT_ROWS))
    audit_heads = "".join(f"<th>{esc(tr(lang, k))}</th>" for k in
                          ("audit_when", "user_name", "audit_action", "audit_recording",
                           "audit_address", "audit_reason"))
    main = f"""
  <section><h2>{esc(tr(lang, "users"))}</h2>
  <div class="scroll"><table id="users"><thead><tr>{heads}<th></th></tr></thead>
  <tbody>{"".join(rows)}</tbody></table></div>
  <h3>{esc(tr(lang, "add_user"))}</h3>
  <form method="post" action="/admin/users" class="period">{csrf_input(token)}
    <label>{esc(tr(lang, "user_name"))} <input name="username" required maxlength="64"></label>
    <label>{esc(tr(lang, "role"))} <select name="role">{_role_options(Role.OPERATOR, lang)}
    </select></label>
    <label>{esc(tr(lang, "password"))} <input name="password" type="password" required
      minlength="{MIN_LENGTH}" autocomplete="new-password"></label>
    <button type="submit">{esc(tr(lang, "add"))}</button></form></section>
  <section><h2>{esc(tr(lang, "sessions"))}</h2>
  <div class="scroll"><table id="sessions"><thead><tr>{session_heads}<th></th></tr></thead>
  <tbody>{session_rows}</tbody></table></div></section>
  <section><h2>{esc(tr(lang, "audit_title"))}</h2>
  <p>{esc(tr(lang, "audit_newest", n=AUDIT_ROWS))}
  <a href="/api/audit.csv" download>{esc(tr(lang, "audit_export"))}</a></p>
  <div class="scroll"><table id="audit"><thead><tr>{audit_heads}</tr></thead>
  <tbody>{audit_rows}</tbody></table></div></section>"""
    html = _frame(request, tr(lang, "admin"), "/admin", main, message)
    return web.Response(text=html, content_type="text/html", status=status)


async def admin_get(request: web.Request) -> web.Response:
    return await admin_page(request)


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: str(v)[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


async def add_user_post(request: web.Request) -> web.Response:
    lang, form = language_of(request), await _form(request)
    username, password = form.get("username", "").strip(), form.get("password", "")
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        return await admin_page(request, tr(lang, "no_such"), 400)
    weak = _weak(lang, password, username)
    if weak or not username:
        return await admin_page(request, weak or tr(lang, "no_such"), 400)
    try:
        await add_user(request.app[SESSIONS], username, role, password,
                       cost=request.app[AUTH].password_cost)
    except UserExistsError:
        return await admin_page(request, tr(lang, "user_exists"), 409)
    return await admin_page(request, tr(lang, "done"))


async def user_post(request: web.Request) -> web.Response:
    lang, form = language_of(request), await _form(request)
    try:
        user_id = int(request.match_info["user_id"])
    except ValueError:
        return await admin_page(request, tr(lang, "no_such"), 404)
    if user_id == request[IDENTITY].user_id:
        return await admin_page(request, tr(lang, "not_yourself"), 400)
    sessions, action = request.app[SESSIONS], form.get("action", "")
    if action == "role":
        try:
            done = await set_role(sessions, user_id, Role(form.get("role", "")))
        except ValueError:
            return await admin_page(request, tr(lang, "no_such"), 400)
    elif action in ("disable", "enable"):
        done = await set_active(sessions, user_id, action == "enable")
    elif action == "password":
        names = {u.id: u.username for u, _ in await users_with_sessions(sessions)}
        weak = _weak(lang, form.get("password", ""), names.get(user_id, ""))
        if weak:
            return await admin_page(request, weak, 400)
        done = await set_password(sessions, user_id, form["password"],
                                  request.app[AUTH].password_cost)
    else:
        return await admin_page(request, tr(lang, "no_such"), 400)
    if not done:
        return await admin_page(request, tr(lang, "no_such"), 404)
    return await admin_page(request, tr(lang, "done"))


async def session_post(request: web.Request) -> web.Response:
    lang = language_of(request)
    try:
        session_id = int(request.match_info["session_id"])
    except ValueError:
        return await admin_page(request, tr(lang, "no_such"), 404)
    done = await revoke_session(request.app[SESSIONS], session_id)
    return await admin_page(request, tr(lang, "done" if done else "no_such"),
                            200 if done else 404)


def account_page(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    lang, token = language_of(request), request[IDENTITY].csrf_token or ""
    fields = "".join(
        f'<label>{esc(tr(lang, key))} <input name="{name}" type="password" required '
        f'autocomplete="{auto}"></label>'
        for key, name, auto in (("current_password", "current", "current-password"),
                                ("new_password", "new", "new-password"),
                                ("repeat_password", "repeat", "new-password")))
    main = (f'<section class="login"><form method="post" action="/account/password">'
            f"{csrf_input(token)}{fields}<button type=\"submit\">"
            f'{esc(tr(lang, "change_password"))}</button></form></section>')
    html = _frame(request, tr(lang, "my_account"), "/account", main, message)
    return web.Response(text=html, content_type="text/html", status=status)


async def account_get(request: web.Request) -> web.Response:
    return account_page(request)


async def account_password_post(request: web.Request) -> web.Response:
    lang, form, identity = language_of(request), await _form(request), request[IDENTITY]
    sessions = request.app[SESSIONS]
    if not await password_matches(sessions, identity.user_id, form.get("current", "")):
        return account_page(request, tr(lang, "wrong_current"), 400)
    if form.get("new", "") != form.get("repeat", ""):
        return account_page(request, tr(lang, "passwords_differ"), 400)
    weak = _weak(lang, form.get("new", ""), identity.username)
    if weak:
        return account_page(request, weak, 400)
    await set_password(sessions, identity.user_id, form["new"],
                       request.app[AUTH].password_cost, keep=identity.session_key_hash)
    return account_page(request, tr(lang, "password_changed"))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/admin", admin_get)
    app.router.add_post("/admin/users", add_user_post)
    app.router.add_post("/admin/users/{user_id}", user_post)
    app.router.add_post("/admin/sessions/{session_id}", session_post)
    app.router.add_get("/account", account_get)
    app.router.add_post("/account/password", account_password_post)
