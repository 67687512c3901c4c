"""Server-rendered HTML: the page frame, the login form, the refusal page.

Every value that comes from the store, the config or the request goes through ``html.escape``
(``esc``); nothing else builds HTML.  The stylesheet and script are separate files
(``/assets/...``) so the Content-Security-Policy can forbid inline script.
"""

from __future__ import annotations

from html import escape


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def layout(title: str, body: str, *, script: bool = False) -> str:
    js = '<script src="/assets/dashboard.js" defer></script>' if script else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        f'<link rel="stylesheet" href="/assets/app.css">{js}</head>'
        f"<body>{body}</body></html>\n"
    )


def login_page(*, next_path: str, error: str = "", username: str = "") -> str:
    message = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = f"""
<main class="login">
  <h1>clinicall</h1>
  <form method="post" action="/login">
    {message}
    <label>User name <input name="username" autocomplete="username" required
      value="{esc(username)}" autofocus></label>
    <label>Password <input name="password" type="password"
      autocomplete="current-password" required></label>
    <input type="hidden" name="next" value="{esc(next_path)}">
    <button type="submit">Log in</button>
  </form>
</main>"""
    return layout("Log in — clinicall", body)


def forbidden_page(role: str | None) -> str:
    who = f"Your role ({esc(role)})" if role else "Nobody"
    hint = (
        "<p>Operators use the live view only (<code>/api/live</code>).</p>"
        if role == "operator"
        else ""
    )
    body = f"""
<main class="login">
  <h1>Not allowed</h1>
  <p>{who} may not open this page.</p>{hint}
  <form method="post" action="/logout"><button type="submit">Log out</button></form>
</main>"""
    return layout("Not allowed — clinicall", body)
