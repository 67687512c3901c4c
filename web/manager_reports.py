"""The manager's reports page (``/reports``) and its downloads (``/reports/download``).

Any period (web/manager_period.py) with the account's KPIs by queue — the same ``compute()``
as ``clinicall report`` — four charts drawn by Chart.js (kept in web/vendor/chartjs): calls
and missed calls per hour of the day, the wait of answered calls per queue (median, 90th
percentile, longest), the service level per queue per day, and the topics in demand; the
missed calls of the period not returned yet, with their cause and age; and CSV / XLSX / JSON
downloads written by ``reports.export.write`` exactly as ``clinicall report`` writes them for
the same dates, grouping and section; then the survey, demand and staffing sections
(web/manager_analytics.py).  docs/console.md.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import cast

from aiohttp import web
from sqlalchemy import select

from clinicall.db.models import Call
from clinicall.reports import Report, compute
from clinicall.reports.export import FORMATS, write
from clinicall.reports.grouping import BadGroupingError
from clinicall.settings.models import ClinicConfig
from clinicall.web.dashboard import fmt
from clinicall.web.i18n import language_of, tr
from clinicall.web.keys import CLOCK, CONFIG, IDENTITY, SESSIONS
from clinicall.web.live import queue_name
from clinicall.web.manager_analytics import analytics_html
from clinicall.web.manager_period import PRESETS, BadPeriod, Period, period_of
from clinicall.web.pages import esc, language_links, layout, logout_forms

SECTIONS = ("queues", "calls", "topics", "resolution")
UNRETURNED_MAX = 200
QUEUE_COLUMNS = [("offered", "count"), ("answered", "count"), ("abandoned", "count"),
                 ("timeout", "count"), ("service_level", "%"), ("asa", "s"), ("wait_p90", "s")]
CALL_COLUMNS = [("inbound", "count"), ("missed", "count"), ("unreturned", "count"),
                ("missed_rate", "%"), ("repeat_24h_rate", "%"), ("fcr", "%"),
                ("dispositioned", "count")]  # FCR from dispositions beside the repeat proxy


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}),
                              content_type="application/json")


def _period(request: web.Request) -> Period:
    config = request.app[CONFIG]
    today = request.app[CLOCK]().astimezone(config.clinic.zone).date()
    try:
        return period_of(dict(request.query), today)
    except BadPeriod as exc:
        raise _bad(str(exc)) from None


async def _report(request: web.Request, period: Period, by: str) -> Report:
    config = request.app[CONFIG]
    start, end = period.bounds(config.clinic.zone)
    try:
        async with request.app[SESSIONS]() as session:
            return await compute(session, start=start, end=end, by=by, config=config)
    except BadGroupingError as exc:
        raise _bad(str(exc)) from None


async def download(request: web.Request) -> web.Response:
    """``?from=&to=&by=&format=csv|xlsx|json&section=queues|calls|topics``: what
    ``clinicall report`` writes for the same arguments, byte for byte."""
    period = _period(request)
    form, section = request.query.get("format", "csv"), request.query.get("section", "queues")
    if form not in FORMATS:
        raise _bad("format: one of " + ", ".join(FORMATS))
    if section not in SECTIONS:
        raise _bad("section: one of " + ", ".join(SECTIONS))
    report = await _report(request, period, request.query.get("by", "queue"))
    out = io.BytesIO()
    write(report, form, out, section)
    name = f"clinicall-{period.first}-{period.last}-{section if form == 'csv' else 'all'}.{form}"
    types = {"csv": "text/csv", "json": "application/json",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    return web.Response(body=out.getvalue(), headers={
        "Content-Type": types[form] + ("; charset=utf-8" if form != "xlsx" else ""),
        "Content-Disposition": f'attachment; filename="{name}"'})


async def unreturned(request: web.Request, period: Period) -> list[dict[str, object]]:
    """The period's missed inbound calls nobody has called back yet, oldest first."""
    config = request.app[CONFIG]
    start, end = period.bounds(config.clinic.zone)
    async with request.app[SESSIONS]() as session:
        calls = (await session.scalars(
            select(Call).where(Call.missed.is_(True), Call.return_delay_ms.is_(None),
                               Call.started_at >= start, Call.started_at < end)
            .order_by(Call.started_at).limit(UNRETURNED_MAX))).all()
    now = request.app[CLOCK]()
    zone = config.clinic.zone
    return [{"at": c.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
             "caller": c.caller or "", "name": c.caller_name or "",
             "cause": c.miss_cause.value if c.miss_cause else "", "route": c.route or "",
             "age_min": int((now - c.started_at).total_seconds() // 60)} for c in calls]


Chart = dict[str, object]


def _chart(kind: str, labels: list[str], datasets: list[tuple[str, list[object]]]) -> Chart:
    return {"type": kind, "labels": labels,
            "datasets": [{"label": label, "data": data} for label, data in datasets]}


def _charts(config: ClinicConfig, hourly: Report, daily: Report,
            queues: Report, lang: str = "en") -> dict[str, Chart]:
    hours: dict[int, list[float]] = {h: [0.0, 0.0] for h in range(24)}
    for row in hourly.section("calls").rows:
        hour = datetime.fromisoformat(str(row["hour"])).hour
        hours[hour][0] += float(cast(float, row.get("inbound") or 0))
        hours[hour][1] += float(cast(float, row.get("missed") or 0))
    per_hour = _chart("bar", [f"{h:02d}" for h in range(24)],
                      [(tr(lang, "calls"), [hours[h][0] for h in range(24)]),
                       (tr(lang, "missed"), [hours[h][1] for h in range(24)])])
    qrows = queues.section("queues").rows
    waits = _chart("bar", [queue_name(config, str(r["queue"]), lang) for r in qrows],
                   [(tr(lang, label), [r.get(field) for r in qrows])
                    for field, label in (("wait_p50", "median_wait"),
                                         ("wait_p90", "p90_wait"),
                                         ("wait_max", "longest_s"))])
    days = sorted({str(r["day"]) for r in daily.section("queues").rows})
    by_queue: dict[str, dict[str, object]] = {}
    for r in daily.section("queues").rows:
        by_queue.setdefault(str(r["queue"]), {})[str(r["day"])] = r.get("service_level")
    sl = _chart("line", days, [(queue_name(config, q, lang), [v.get(d) for d in days])
                               for q, v in by_queue.items()])
    trows = queues.section("topics").rows
    topics = _chart("bar", [str(r.get("route") or "—") for r in trows],
                    [(tr(lang, "calls"), [r.get("calls") for r in trows])])
    return {"per_hour": per_hour, "waits": waits, "service_level": sl, "topics": topics}


def _table(title: str, rows: list[dict[str, object]], key: str,
           columns: list[tuple[str, str]], names: dict[str, str], lang: str) -> str:
    head = "".join(f"<th>{esc(tr(lang, 'k_' + c))}</th>" for c, _ in columns)
    body = "".join(
        f'<tr><th scope="row">{esc(names.get(str(r.get(key, "")), r.get(key, "")))}</th>'
        + "".join(f'<td data-report="{esc(str(r.get(key, "")))}:{c}">{esc(fmt(r.get(c), u))}'
                  "</td>" for c, u in columns) + "</tr>" for r in rows)
    return (f'<div class="scroll"><table><caption>{esc(title)}</caption><thead><tr><th></th>'
            f"{head}</tr></thead><tbody>{body}</tbody></table></div>")


CHART_TITLES = {"per_hour": "chart_per_hour", "waits": "chart_waits",
                "service_level": "chart_sl", "topics": "chart_topics"}


async def reports_page(request: web.Request) -> web.Response:
    config, identity = request.app[CONFIG], request[IDENTITY]
    lang = language_of(request)
    period = _period(request)
    queues = await _report(request, period, "queue")
    hourly = await _report(request, period, "hour")
    daily = await _report(request, period, "queue,day")
    charts = _charts(config, hourly, daily, queues, lang)
    missed = await unreturned(request, period)
    async with request.app[SESSIONS]() as session:  # survey, demand, staffing
        analytics = await analytics_html(session, config, *period.bounds(config.clinic.zone),
                                         lang)  # fmt: skip
    names = {q: queue_name(config, q, lang) for q in config.queues}
    query = f"from={period.first}&amp;to={period.last}&amp;by=queue"
    downloads = " · ".join(
        f'<a href="/reports/download?{query}&amp;format={f}&amp;section={s}" download>'
        f"{f.upper()}{'' if f != 'csv' else ' (' + s + ')'}</a>"
        for f in FORMATS for s in (SECTIONS if f == "csv" else ("queues",)))
    presets = "".join(f'<a class="preset" href="/reports?period={p}">{esc(tr(lang, p))}</a>'
                      for p in PRESETS)
    chart_html = "".join(
        f'<figure class="chart"><figcaption>{esc(tr(lang, CHART_TITLES[k]))}</figcaption>'
        f'<canvas data-chart="{esc(json.dumps(v))}" role="img" '
        f'aria-label="{esc(tr(lang, CHART_TITLES[k]))}"></canvas></figure>'
        for k, v in charts.items())
    missed_rows = "".join(
        f'<tr><td>{esc(m["at"])}</td>'
        f'<td>{esc(m["caller"])}</td><td>{esc(m["name"])}</td><td>{esc(m["cause"])}</td>'
        f'<td>{esc(m["route"])}</td><td>{esc(m["age_min"])} {esc(tr(lang, "minutes"))}</td>'
        "</tr>" for m in missed)
    resolution = queues.section("resolution").rows  # one row at most: no call keys
    calls_row: list[dict[str, object]] = [{**r, **(resolution[0] if resolution else {})}
                                          for r in queues.section("calls").rows]
    missed_heads = "".join(f"<th>{esc(tr(lang, k))}</th>"
                           for k in ("when", "number", "name", "cause", "topic", "age"))
    body = f"""
<header>
  <div><h1>{esc(tr(lang, "reports"))}</h1><p class="sub">{period.first} – {period.last} ·
  {esc(tr(lang, "time_zone"))} {esc(config.clinic.timezone)}</p></div>
  <div class="who">{language_links(lang, "/reports")}
  <a href="/">{esc(tr(lang, "dashboard"))}</a> <a href="/wallboard">{esc(tr(lang, "wallboard"))}</a>
  <span>{esc(identity.username)} ({esc(identity.role.value)})</span>
  {logout_forms(identity.csrf_token or "", lang)}</div>
</header>
<main class="reports">
  <nav class="presets" aria-label="{esc(tr(lang, "reports"))}">{presets}</nav>
  <form method="get" action="/reports" class="period">
    <label>{esc(tr(lang, "from"))} <input type="date" name="from" value="{period.first}"
      required></label>
    <label>{esc(tr(lang, "to"))} <input type="date" name="to" value="{period.last}"
      required></label>
    <button type="submit">{esc(tr(lang, "show"))}</button>
  </form>
  <p class="downloads">{esc(tr(lang, "download"))}: {downloads}</p>
  {_table(tr(lang, "calls"), calls_row, "_", CALL_COLUMNS, {}, lang)}
  {_table(tr(lang, "queues"), [dict(r) for r in queues.section("queues").rows], "queue",
          QUEUE_COLUMNS, names, lang)}
  <section class="charts">{chart_html}</section>
  <section><h2>{esc(tr(lang, "unreturned_title"))} ({len(missed)})</h2>
  <div class="scroll"><table id="unreturned"><thead><tr>{missed_heads}</tr></thead>
  <tbody>{missed_rows}</tbody></table></div></section>
  {analytics}
</main>"""
    html = layout(f"{tr(lang, 'reports')} — clinicall", body, lang=lang,
                  csrf_token=identity.csrf_token or "",
                  scripts=("/assets/vendor/chart.umd.min.js", "/assets/reports.js"),
                  styles=("/assets/console.css",))
    return web.Response(text=html, content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/reports/download", download)
