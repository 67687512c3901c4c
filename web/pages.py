"""Server-rendered HTML: the page frame, the login form, the refusal page.

Every value that comes from the store, the config or the request goes through ``html.escape``
(``esc``); nothing else builds HTML.  The stylesheet and script are separate files
(``/assets/...``) so the Content-Security-Policy can forbid inline script.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from clinicall.web.i18n import LANGUAGES, tr


def esc(value: object) -> str:
    return escape(str(value), quote=True)


CSRF_FIELD = "csrf_token"


def layout(title: str, body: str, *, script: bool = False, csrf_token: str = "",
           scripts: tuple[str, ...] = (), styles: tuple[str, ...] = (),
           lang: str = "en") -> str:
    """The page frame.  ``csrf_token`` (a logged-in page) is also put in a ``csrf-token`` meta
    element, for a script that sends ``X-CSRF-Token`` with a state-changing fetch.
    ``script`` adds the dashboard's script, ``scripts`` any other of the app's own."""
    sources = (("/assets/dashboard.js",) if script else ()) + scripts
    js = "".join(f'<script src="{esc(src)}" defer></script>' for src in sources)
    js += "".join(f'<link rel="stylesheet" href="{esc(href)}">' for href in styles)
    meta = f'<meta name="csrf-token" content="{esc(csrf_token)}">' if csrf_token else ""
    return (
        "<!doctype html>\n"
        f'<html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}"
        f"<title>{esc(title)}</title>"
        f'<link rel="stylesheet" href="/assets/app.css">{js}</head>'
        f"<body>{body}</body></html>\n"
    )


def csrf_input(token: str) -> str:
    """The hidden field that carries the CSRF token in every form (docs/web-security.md)."""
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{esc(token)}">'


def logout_forms(csrf_token: str, lang: str = "en") -> str:
    """"Log out" (this browser) and "Sign out everywhere" (every session of the user)."""
    return (f'<form method="post" action="/logout">{csrf_input(csrf_token)}'
            f'<button type="submit">{esc(tr(lang, "log_out"))}</button></form>'
            f'<form method="post" action="/logout/all">{csrf_input(csrf_token)}'
            f'<button type="submit">{esc(tr(lang, "sign_out_everywhere"))}</button></form>')


CURRENT = ' aria-current="true"'


def language_links(lang: str, here: str) -> str:
    """Links that switch the console's language and come back to ``here``."""
    links = " ".join(
        f'<a href="/language?{esc(urlencode({"set": code, "next": here}))}"'
        f'{CURRENT if code == lang else ""} lang="{code}">{code.upper()}</a>'
        for code in LANGUAGES)
    return f'<nav class="langs" aria-label="{esc(tr(lang, "language"))}">{links}</nav>'


def login_page(*, next_path: str, csrf_token: str, error: str = "", username: str = "",
               plain_http: bool = False, lang: str = "en") -> str:
    """``plain_http``: the page came over plain HTTP while cookies are Secure: sign-in cannot
    work, so the page says why and what to do, and the button is disabled."""
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    if plain_http:
        message = (f'<p class="error" role="alert" id="plain-http">'
                   f"{esc(tr(lang, 'plain_http'))}</p>{message}")

    body = f"""
<main class="login">
  {language_links(lang, "/login")}
  <h1>clinicall</h1>
  <form method="post" action="/login">
    {message}
    <label>{esc(tr(lang, "user_name"))} <input name="username" autocomplete="username" required
      value="{esc(username)}" autofocus></label>
    <label>{esc(tr(lang, "password"))} <input name="password" type="password"
      autocomplete="current-password" required></label>
    <input type="hidden" name="next" value="{esc(next_path)}">
    {csrf_input(csrf_token)}
    <button type="submit"{" disabled" if plain_http else ""}>{esc(tr(lang, "log_in"))}</button>
  </form>
</main>"""
    return layout(f"{tr(lang, 'log_in')} — clinicall", body, lang=lang)


def forbidden_page(role: str | None, csrf_token: str = "", lang: str = "en") -> str:
    hint = (f'<p><a href="/operator">{esc(tr(lang, "my_desk"))}</a> · '
            f'<a href="/wallboard">{esc(tr(lang, "wallboard"))}</a></p>'
            f'<p>{esc(tr(lang, "operator_hint"))}</p>' if role == "operator" else "")
    body = f"""
<main class="login">
  <h1>{esc(tr(lang, "not_allowed"))}</h1>
  <p>{esc(tr(lang, "role_may_not", role=role or "-"))}</p>{hint}
  {logout_forms(csrf_token, lang) if csrf_token else ""}
</main>"""
    return layout(f"{tr(lang, 'not_allowed')} — clinicall", body, csrf_token=csrf_token,
                  lang=lang)


def refused_page(message: str, lang: str = "en") -> str:
    """A refusal with its reason (a failed CSRF check, a bad query) and the way back, in the
    user's language (``message`` already in it)."""
    body = f"""
<main class="login">
  <h1>{esc(tr(lang, "not_done"))}</h1>
  <p class="error" role="alert">{esc(message)}</p>
  <p><a href="/">{esc(tr(lang, "back_to_dashboard"))}</a> ·
  <a href="/login">{esc(tr(lang, "log_in"))}</a></p>
</main>"""
    return layout(f"{tr(lang, 'not_done')} — clinicall", body, lang=lang)
