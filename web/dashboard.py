"""The manager's dashboard (``/``) and the two JSON feeds of its data (``/api/live``,
``/api/kpi``).

The page is complete without JavaScript (rendered from the same data as the feeds); the
script repaints the cells from the pushes of ``/ws/dashboard`` (web/dashboard_push.py: the
same two bodies, pushed on every change of the live state; no polling).  Cells carry
``data-live="queue:field"`` / ``data-kpi="queue:field"`` so the script finds them without
knowing the layout.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from clinicall.reports.table import Value
from clinicall.settings.models import ClinicConfig
from clinicall.web import reports_api
from clinicall.web.i18n import language_of, tr, words_json
from clinicall.web.keys import (
    ACCOUNT,
    CLOCK,
    CONFIG,
    HEALTH,
    IDENTITY,
    LIVE,
    SESSIONS,
    Identity,
)
from clinicall.web.kpi_today import clinic_row, rows_by_queue, today_report
from clinicall.web.live import live_view, queue_name
from clinicall.web.pages import esc, language_links, layout, logout_forms
from clinicall.web.wallboard import STALE_AFTER_S

LIVE_COLUMNS = [
    ("waiting", "k_waiting", "count"),
    ("longest_wait_s", "k_longest_wait", "s"),
    ("available", "k_available", "count"),
    ("paused", "k_paused", "count"),
    ("in_call", "k_in_call", "count"),
]
KPI_COLUMNS = [
    ("offered", "k_offered", "count"),
    ("answered", "k_answered", "count"),
    ("abandoned", "k_abandoned", "count"),
    ("timeout", "k_timeout", "count"),
    ("service_level", "k_service_level", "%"),
    ("asa", "k_asa", "s"),
]
CLINIC_COLUMNS = [
    ("inbound", "k_inbound", "count"),
    ("missed", "k_missed", "count"),
    ("unreturned", "k_unreturned", "count"),
    ("missed_rate", "k_missed_rate", "%"),
]


def fmt(value: object, unit: str) -> str:
    """A cell's text; the script's ``fmt`` must give the same text for the same value."""
    if value is None:
        return "—"
    if unit == "s" and isinstance(value, int | float):
        return f"{float(value):.1f} s"
    if unit == "%" and isinstance(value, int | float):
        return f"{float(value):.1f} %"
    return str(value)


def _cell(attr: str, key: str, value: object, unit: str) -> str:
    return f'<td data-{attr}="{esc(key)}" data-unit="{unit}">{esc(fmt(value, unit))}</td>'


def _table(caption: str, attr: str, columns: list[tuple[str, str, str]],
           rows: list[tuple[str, str, Mapping[str, object]]], default: object,
           lang: str = "en") -> str:
    head = "".join(f"<th>{esc(tr(lang, title))}</th>" for _, title, _ in columns)
    body = "".join(
        f"<tr><th scope=\"row\">{esc(name)}</th>"
        + "".join(_cell(attr, f"{key}:{f}", values.get(f, default if u == "count" else None), u)
                  for f, _, u in columns)
        + "</tr>"
        for key, name, values in rows
    )
    return (f'<div class="scroll"><table><caption>{esc(caption)}</caption><thead><tr>'
            f"<th>{esc(tr(lang, 'queue'))}</th>{head}</tr>"
            f"</thead><tbody>{body}</tbody></table></div>")


def render_dashboard(config: ClinicConfig, identity: Identity, live: dict[str, object],
                     kpi: dict[str, dict[str, Value]], clinic: dict[str, Value],
                     local_now: str, lang: str = "en") -> str:
    live_queues = live["queues"]
    assert isinstance(live_queues, dict)
    queues = list(dict.fromkeys([*live_queues, *kpi]))
    live_rows = [(q, queue_name(config, q, lang), live_queues.get(q, {})) for q in queues]
    kpi_rows: list[tuple[str, str, Mapping[str, object]]] = [
        (q, queue_name(config, q, lang), kpi.get(q, {})) for q in queues]
    clinic_cells = "".join(
        f'<div class="tile"><span class="label">{esc(tr(lang, title))}</span>'
        f'<span class="value" data-kpi="calls:{f}" data-unit="{u}">'
        f'{esc(fmt(clinic.get(f, 0 if u == "count" else None), u))}</span></div>'
        for f, title, u in CLINIC_COLUMNS
    )
    status = ("" if live["connected"]
              else f'<p class="warn">{esc(tr(lang, "no_live_feed"))}</p>')
    name = config.clinic.name.get(config.default_language, "")
    body = f"""
<header>
  <div><h1>{esc(name)}</h1>
  <p class="sub">{esc(tr(lang, "time_zone_cap"))} {esc(config.clinic.timezone)} ·
  <span id="feed" class="feed stale" role="status" aria-live="polite">{esc(
      tr(lang, "connecting"))}</span> · <span id="updated">{esc(local_now)}</span></p></div>
  <div class="who">{language_links(lang, "/")}
    <a href="/reports">{esc(tr(lang, "reports"))}</a>
    <a href="/wallboard">{esc(tr(lang, "wallboard"))}</a>
    <span>{esc(identity.username)} ({esc(identity.role.value)})</span>
    {logout_forms(identity.csrf_token, lang) if identity.csrf_token else ""}</div>
</header>
<main data-socket="/ws/dashboard" data-stale-after="{STALE_AFTER_S:g}"
  data-words="{esc(words_json(lang, ("updated", "live", "stale")))}">
  <section><h2>{esc(tr(lang, "now"))}</h2>{status}
  {_table(tr(lang, "queues_now"), "live", LIVE_COLUMNS, live_rows, 0, lang)}</section>
  <section><h2>{esc(tr(lang, "today_title"))}</h2>
  <div class="tiles">{clinic_cells}</div>
  {_table(tr(lang, "queues_today"), "kpi", KPI_COLUMNS, kpi_rows, 0, lang)}</section>
</main>"""
    return layout(f"{name} — clinicall", body, script=True, styles=("/assets/console.css",),
                  csrf_token=identity.csrf_token or "", lang=lang)


async def dashboard(request: web.Request) -> web.Response:
    app = request.app
    config, now = app[CONFIG], app[CLOCK]()
    live = live_view(config, app[LIVE], now, app[HEALTH], app[ACCOUNT])
    report = await today_report(app[SESSIONS], config, now)
    local_now = now.astimezone(config.clinic.zone).strftime("%Y-%m-%d %H:%M:%S")
    html = render_dashboard(config, request[IDENTITY], live, rows_by_queue(report),
                            clinic_row(report), local_now, language_of(request))
    return web.Response(text=html, content_type="text/html")


async def api_live(request: web.Request) -> web.Response:
    app = request.app
    return web.json_response(live_view(app[CONFIG], app[LIVE], app[CLOCK](), app[HEALTH],
                                      app[ACCOUNT]))


async def api_kpi(request: web.Request) -> web.Response:
    """``/api/kpi``: today by queue on the app's clock (what the dashboard polls), or any
    period and grouping with ``from``/``to``/``by`` (:func:`web.reports_api.kpi_handler`)."""
    if "from" in request.query:
        return await reports_api.kpi_handler(request)
    if request.query:
        raise reports_api.bad_request("'to' and 'by' need 'from' (from=YYYY-MM-DD)")
    return await api_kpi_today(request)


async def api_kpi_today(request: web.Request) -> web.Response:
    """Today's KPIs by queue, the day taken from the app's clock."""
    app = request.app
    report = await today_report(app[SESSIONS], app[CONFIG], app[CLOCK]())
    return web.json_response(report.to_dict())
