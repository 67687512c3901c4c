"""The reports page's analytics: post-call survey, demand by hour of week, staffing advice,
callbacks.

Three sections under the KPIs of ``/reports`` (web/manager_reports.py), from the same
computations as ``clinicall report --section survey|demand|staffing`` and the JSON API:

- *survey* for the period, per queue (docs/kpi.md, Survey), and the CSAT answers' distribution
  as a Chart.js bar chart;
- *demand*: the period's calls by local weekday and hour, a table whose cells shade with the
  count in five shades (a heatmap readable without a script and by a screen reader);
- *staffing*: operators needed per queue and hour of week by Erlang A and C, from the four
  whole weeks before the period's end (a forecast needs the same hour over several weeks),
  against the operators logged in, under- and over-staffed hours marked; then the model's
  assumptions;
- *callbacks*: the period's callback figures (jobs, time to the first attempt, attempts per
  job, success rate, missed calls not returned in time), jobs per cause and reminders per
  result, as ``clinicall report --section callbacks`` (docs/callbacks.md, "Visibility").
  docs/console.md.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.reports.callbacks import callback_report
from clinicall.reports.demand import compute_demand
from clinicall.reports.settings import kpi_settings
from clinicall.reports.staffing import compute_staffing
from clinicall.reports.survey import compute_survey
from clinicall.reports.table import Report, Value
from clinicall.settings.models import ClinicConfig
from clinicall.web.dashboard import fmt
from clinicall.web.i18n import tr
from clinicall.web.live import queue_name
from clinicall.web.pages import esc

STAFFING_WEEKS = 4
HEAT_SHADES = 5  # the stylesheet's heat-1 … heat-5 (a style attribute would break the CSP)
SURVEY_COLUMNS = [("due", "count"), ("answered", "count"), ("response_rate", "%"),
                  ("partial", "count"), ("csat_mean", "score"), ("nps_answers", "count"),
                  ("nps", "score")]  # fmt: skip
STAFFING_COLUMNS = [("offered_per_h", "count"), ("aht_s", "s"), ("agents_erlang_a", "count"),
                    ("sl_erlang_a", "%"), ("abandon_erlang_a", "%"),
                    ("agents_erlang_c", "count"), ("logged_in", "count")]  # fmt: skip


def _num(value: Value) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def survey_html(rows: list[dict[str, Value]], config: ClinicConfig, lang: str) -> str:
    head = "".join(f"<th>{esc(tr(lang, 'k_' + c))}</th>" for c, _ in SURVEY_COLUMNS)
    def name(queue: Value) -> str:  # in the page's language
        return queue_name(config, str(queue), lang) if queue else "—"

    body = "".join(
        f'<tr><th scope="row">{esc(name(r["queue"]))}'
        "</th>" + "".join(f'<td data-report="survey:{esc(str(r["queue"]))}:{c}">'
                          f"{esc(fmt(r.get(c), u))}</td>" for c, u in SURVEY_COLUMNS) + "</tr>"
        for r in rows)  # fmt: skip
    scores = [sum(_num(r.get(f"csat_{n}")) for r in rows) for n in range(1, 6)]
    chart = {"type": "bar", "labels": [str(n) for n in range(1, 6)],
             "datasets": [{"label": tr(lang, "chart_csat"), "data": scores}]}  # fmt: skip
    return (
        f'<section id="survey"><h2>{esc(tr(lang, "survey_title"))}</h2>'
        f'<div class="scroll"><table><thead><tr><th>{esc(tr(lang, "queue"))}</th>{head}'
        f"</tr></thead><tbody>{body}</tbody></table></div>"
        f'<figure class="chart"><figcaption>{esc(tr(lang, "chart_csat"))}</figcaption>'
        f'<canvas data-chart="{esc(json.dumps(chart))}" role="img" '
        f'aria-label="{esc(tr(lang, "chart_csat"))}"></canvas></figure></section>'
    )


def callbacks_html(report: Report, lang: str) -> str:
    """The summary row, then the jobs per cause and the reminders per result."""
    [summary] = report.section("callbacks").rows
    cells = "".join(f'<tr><th scope="row">{esc(tr(lang, "k_" + c.name))}</th>'
                    f'<td data-report="callbacks:{c.name}">{esc(fmt(summary.get(c.name), c.unit))}'
                    "</td></tr>" for c in report.section("callbacks").metrics)  # fmt: skip
    tables = ""
    for name, key, value in (("callback_causes", "cause", "jobs"),
                             ("reminders", "result", "appointments")):  # fmt: skip
        rows = "".join(f'<tr><th scope="row">{esc(str(r[key]))}</th>'
                       f'<td data-report="{name}:{esc(str(r[key]))}">{esc(fmt(r[value], "count"))}'
                       "</td></tr>" for r in report.section(name).rows)  # fmt: skip
        tables += (f'<table><thead><tr><th>{esc(tr(lang, "k_" + key))}</th>'
                   f"<th>{esc(tr(lang, 'k_' + value))}</th></tr>"
                   f"</thead><tbody>{rows}</tbody></table>")  # fmt: skip
    return (f'<section id="callbacks"><h2>{esc(tr(lang, "callbacks_title"))}</h2>'
            f'<div class="scroll"><table><tbody>{cells}</tbody></table>{tables}</div>'
            "</section>")  # fmt: skip


def heatmap_html(rows: list[dict[str, Value]], lang: str) -> str:
    """Calls per local weekday (rows) and hour (columns), every topic together."""
    cells: dict[tuple[int, int], float] = {}
    for r in rows:
        key = (int(_num(r["weekday"])), int(_num(r["hour"])))
        cells[key] = cells.get(key, 0.0) + _num(r["calls"])
    top = max(cells.values(), default=0.0) or 1.0
    head = "".join(f'<th scope="col">{h:02d}</th>' for h in range(24))
    body = ""
    for day in range(1, 8):
        row = ""
        for hour in range(24):
            n = cells.get((day, hour), 0.0)
            shade = f' class="heat-{math.ceil(HEAT_SHADES * n / top)}"' if n else ""
            row += f'<td data-report="heat:{day}:{hour}"{shade}>{int(n) if n else ""}</td>'
        body += f'<tr><th scope="row">{esc(tr(lang, f"wd_{day}"))}</th>{row}</tr>'
    return (
        f'<section id="demand"><h2>{esc(tr(lang, "demand_title"))}</h2>'
        f'<div class="scroll"><table class="heatmap"><caption>'
        f"{esc(tr(lang, 'heatmap_caption'))}</caption><thead><tr><th></th>{head}</tr>"
        f"</thead><tbody>{body}</tbody></table></div></section>"
    )


def staffing_html(rows: list[dict[str, Value]], config: ClinicConfig, lang: str,
                  window: tuple[str, str]) -> str:  # fmt: skip
    head = "".join(f"<th>{esc(tr(lang, 'k_' + c))}</th>" for c, _ in STAFFING_COLUMNS)
    body = ""
    for r in rows:
        where = f"{r['queue']}:{r['weekday']}:{r['hour']}"
        staffed = str(r.get("staffed") or "")
        mark = f' class="staffed-{staffed}"' if staffed in ("under", "over") else ""
        body += (
            f'<tr{mark}><th scope="row">{esc(queue_name(config, str(r["queue"]), lang))}</th>'
            f"<td>{esc(tr(lang, 'wd_' + str(r['weekday'])))}</td>"
            f"<td>{int(_num(r['hour'])):02d}:00</td>"
            + "".join(
                f'<td data-report="staff:{esc(where)}:{c}">{esc(fmt(r.get(c), u))}</td>'
                for c, u in STAFFING_COLUMNS
            )
            + f'<td data-report="staff:{esc(where)}:staffed">'
            f"{esc(tr(lang, 'staffed_' + staffed) if staffed else '')}</td></tr>"
        )
    return (
        f'<section id="staffing"><h2>{esc(tr(lang, "staffing_title"))}</h2>'
        f'<p class="sub">{esc(tr(lang, "staffing_window", first=window[0], last=window[1]))}'
        f'</p><div class="scroll"><table><thead><tr><th>{esc(tr(lang, "queue"))}</th>'
        f"<th>{esc(tr(lang, 'weekday'))}</th><th>{esc(tr(lang, 'hour'))}</th>{head}"
        f"<th>{esc(tr(lang, 'k_staffed'))}</th></tr></thead><tbody>{body}</tbody></table>"
        f'</div><p class="note">{esc(tr(lang, "staffing_model"))}</p></section>'
    )


async def analytics_html(session: AsyncSession, config: ClinicConfig, start: datetime,
                         end: datetime, lang: str) -> str:  # fmt: skip
    """The four sections for the period [start, end) (local midnights)."""
    always = [q for q, v in config.queues.items() if v.survey == "always"]
    survey = await compute_survey(
        session, start=start, end=end, by="queue", timezone=config.clinic.timezone, always=always,
        settings=kpi_settings(config),
    )
    demand = await compute_demand(session, start=start, end=end, config=config)
    history = end - timedelta(weeks=STAFFING_WEEKS)
    staffing = await compute_staffing(session, start=history, end=end, config=config)
    zone = config.clinic.zone
    window = (str(history.astimezone(zone).date()),
              str((end - timedelta(days=1)).astimezone(zone).date()))  # fmt: skip
    return (
        survey_html(survey.section("survey").rows, config, lang)
        + heatmap_html(demand.section("heatmap").rows, lang)
        + staffing_html(staffing.section("staffing").rows, config, lang, window)
        + callbacks_html(await callback_report(
            session, start=start, end=end, timezone=config.clinic.timezone,
            unreturned_after=timedelta(minutes=config.kpi.unreturned_after_min)), lang)
    )
