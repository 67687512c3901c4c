"""Demand analytics: who calls about what, when, for which doctor, and what went unmet.

Definitions (docs/kpi.md, "Demand"); every figure is over the *inbound* calls started in the
period [start, end), in the clinic's time zone:

- *topic*: the call's IVR topic (``Call.route``: the route chosen, or for a call that only heard
  answers the last answer's key, ``info_hours``/``service_<id>``; ``none`` when nothing was
  chosen); *specialty*: the first queue the call waited in (``none``: no queue);
- ``heatmap``: calls per topic and specialty by hour of week (ISO weekday 1 = Monday, local hour);
- ``information``: every self-service answer the information branch played, read from the
  call's key path and the menus of the clinic config the report is run with: ``hours``,
  ``address`` or ``service:<id>`` (its price, preparation, doctors): times asked and calls;
- ``doctors``: per doctor, the calls of routes that name the doctor (``routes.<id>.doctor``),
  how many an operator answered and how many were missed, and how often the information branch
  was asked about a service the doctor provides;
- ``trend``: calls per topic against the previous period of the same length (change in %);
- ``unmet``: missed calls per topic (``Call.missed``), their rate and causes;
- ``repeats``: calls per topic and first outcome (answered, missed, self-served, other) that the
  same caller followed with another inbound call within 24 h (``repeat_gap_ms``), and the rate.

Whole hours are read from the demand's hourly sums, the edges from the rows
(``reports.analytics_hours``); the config (menus, doctors) is applied when they are added up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.db.models import MissCause
from clinicall.reports.analytics_hours import DEMAND, Fact
from clinicall.reports.analytics_read import collect, update_sums
from clinicall.reports.settings import kpi_settings
from clinicall.reports.table import Column, Report, Section, Value, ratio
from clinicall.settings.models import ClinicConfig

CAUSES = tuple(c.value for c in MissCause)


#: The dimensions the sections other than the heatmap need, in the order of ``_Call``.
CALL_DIMS = ("topic", "specialty", "path", "answered", "missed", "self_served", "cause")


@dataclass(frozen=True, slots=True)
class _Calls:
    """``n`` inbound calls alike in what demand needs of them; ``repeated`` of them repeated."""

    topic: str
    specialty: str
    path: str
    answered: bool
    missed: bool
    self_served: bool
    miss_cause: str
    n: int
    repeated: int


def _calls(facts: Iterable[Fact]) -> list[_Calls]:
    return [_Calls(str(t), str(s), str(p), bool(a), bool(m), bool(ss), str(c),
                   f.counts["calls"], f.counts["repeated"])
            for f in facts for t, s, p, a, m, ss, c in [f.dims]]  # fmt: skip


def questions(config: ClinicConfig, path: str) -> list[str]:
    """The self-service answers a key path played (``hours``, ``address``, ``service:<id>``)."""
    out = []
    for step in path.split("/") if path else []:
        menu, _, key = step.partition(":")
        option = config.ivr.menus.get(menu)
        chosen = option.options.get(key) if option is not None else None
        if chosen is not None and chosen.say is not None:
            out.append(chosen.say)
    return out


def _section(name: str, keys: Iterable[Column], metrics: Iterable[Column],
             rows: Iterable[dict[str, Value]]) -> Section:  # fmt: skip
    return Section(name, list(keys), list(metrics), list(rows))


def _heatmap(week: list[Fact]) -> Section:
    counts: Counter[tuple[str, str, int, int]] = Counter()
    for f in week:
        topic, specialty = f.dims
        weekday, hour = f.when
        counts[(topic, specialty, weekday, hour)] += f.counts["calls"]
    rows: list[dict[str, Value]] = [
        {"topic": t, "specialty": s, "weekday": d, "hour": h, "calls": n}
        for (t, s, d, h), n in sorted(counts.items()) if n
    ]
    return _section("heatmap", [Column("topic"), Column("specialty"),
                                Column("weekday", "", "ISO weekday, 1 = Monday"),
                                Column("hour", "", "local hour 0-23")],
                    [Column("calls", "count")], rows)  # fmt: skip


def _information(calls: list[_Calls], config: ClinicConfig) -> Section:
    asked: Counter[str] = Counter()
    callers: Counter[str] = Counter()
    lang = config.default_language
    for c in calls:
        heard = questions(config, c.path)
        for question in heard:
            asked[question] += c.n
        for question in set(heard):
            callers[question] += c.n
    rows: list[dict[str, Value]] = []
    for question, n in sorted(asked.items(), key=lambda kv: (-kv[1], kv[0])):
        service = config.services.get(question.removeprefix("service:"))
        name = service.name[lang] if service is not None and question.startswith("service:") \
            else question  # fmt: skip
        rows.append({"question": question, "name": name, "asked": n, "calls": callers[question]})
    return _section("information", [Column("question"), Column("name")],
                    [Column("asked", "count", "times the answer was played"),
                     Column("calls", "count", "calls that heard it")], rows)  # fmt: skip


def _doctors(calls: list[_Calls], config: ClinicConfig) -> Section:
    by_route = {rid: r.doctor for rid, r in config.routes.items() if r.doctor}
    sums: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for c in calls:
        doctor = by_route.get(c.topic)
        if doctor is not None:
            sums[doctor].update(calls=c.n, answered=c.n * c.answered, missed=c.n * c.missed)
        for question in set(questions(config, c.path)):
            service = config.services.get(question.removeprefix("service:"))
            if question.startswith("service:") and service is not None:
                for d in service.doctors:
                    sums[d]["asked_about"] += c.n
    lang = config.default_language
    rows: list[dict[str, Value]] = []
    for doctor in sorted(sums):
        known = config.doctors.get(doctor)
        s = sums[doctor]
        rows.append({"doctor": doctor, "name": known.name[lang] if known else doctor,
                     "calls": s["calls"], "answered": s["answered"], "missed": s["missed"],
                     "missed_rate": ratio(s["missed"], s["calls"]),
                     "asked_about": s["asked_about"]})  # fmt: skip
    return _section("doctors", [Column("doctor"), Column("name")], [
        Column("calls", "count", "calls of routes naming the doctor"),
        Column("answered", "count"), Column("missed", "count"), Column("missed_rate", "%"),
        Column("asked_about", "count", "calls that asked about a service the doctor provides"),
    ], rows)  # fmt: skip


def _trend(calls: list[_Calls], previous: list[Fact]) -> Section:
    now, before = Counter[str](), Counter[str]()
    for c in calls:
        now[c.topic] += c.n
    for f in previous:
        before[str(f.dims[0])] += f.counts["calls"]
    rows: list[dict[str, Value]] = []
    for topic in sorted(set(now) | set(before)):
        change = (None if not before[topic] else
                  round(100.0 * (now[topic] - before[topic]) / before[topic], 2))  # fmt: skip
        rows.append({"topic": topic, "calls": now[topic], "previous_calls": before[topic],
                     "change": change})  # fmt: skip
    return _section("trend", [Column("topic")], [
        Column("calls", "count"),
        Column("previous_calls", "count", "the previous period of the same length"),
        Column("change", "%", "(calls - previous) / previous"),
    ], rows)  # fmt: skip


def _unmet(calls: list[_Calls]) -> Section:
    sums: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for c in calls:
        sums[c.topic]["calls"] += c.n
        if c.missed:
            sums[c.topic]["missed"] += c.n
            sums[c.topic][f"missed_{c.miss_cause or 'unknown'}"] += c.n
    rows: list[dict[str, Value]] = []
    for topic in sorted(sums):
        s = sums[topic]
        row: dict[str, Value] = {"topic": topic, "calls": s["calls"], "missed": s["missed"],
                                 "missed_rate": ratio(s["missed"], s["calls"])}  # fmt: skip
        row |= {f"missed_{cause}": s[f"missed_{cause}"] for cause in CAUSES}
        rows.append(row)
    return _section("unmet", [Column("topic")], [
        Column("calls", "count"), Column("missed", "count"), Column("missed_rate", "%"),
        *[Column(f"missed_{cause}", "count") for cause in CAUSES],
    ], rows)  # fmt: skip


def _first_outcome(c: _Calls) -> str:
    if c.answered:
        return "answered"
    if c.missed:
        return "missed"
    return "selfserved" if c.self_served else "other"


def _repeats(calls: list[_Calls]) -> Section:
    sums: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for c in calls:
        key = (c.topic, _first_outcome(c))
        sums[key]["calls"] += c.n
        sums[key]["repeated"] += c.repeated
    rows: list[dict[str, Value]] = [
            {"topic": t, "first_outcome": o, "calls": s["calls"], "repeated_24h": s["repeated"],
             "repeat_rate": ratio(s["repeated"], s["calls"])}
            for (t, o), s in sorted(sums.items())]  # fmt: skip
    return _section("repeats", [Column("topic"), Column("first_outcome")], [
        Column("calls", "count"),
        Column("repeated_24h", "count", "followed by another call of the caller within 24 h"),
        Column("repeat_rate", "%"),
    ], rows)  # fmt: skip


async def compute_demand(
    session: AsyncSession, *, start: datetime, end: datetime, config: ClinicConfig,
    hourly_sums: bool = True,
) -> Report:
    """Every demand section (see the module docstring) for [start, end); whole hours from the
    hourly sums (``reports.analytics_read``), or, with ``hourly_sums=False``, every row."""
    settings = kpi_settings(config) if hourly_sums else None
    zone = config.clinic.zone
    if settings is not None:  # both periods' sums made current once
        await update_sums(session, start=start - (end - start), end=end, settings=settings)

    async def read(lo: datetime, hi: datetime, dims: Sequence[str],
                   time_keys: Sequence[str] = ()) -> list[Fact]:  # fmt: skip
        return await collect(session, DEMAND, start=lo, end=hi, zone=zone, settings=settings,
                             dims=dims, time_keys=time_keys, current=True)  # fmt: skip

    week = await read(start, end, ("topic", "specialty"), ("week",))
    calls = _calls(await read(start, end, CALL_DIMS))
    previous = await read(start - (end - start), start, ("topic",))
    sections = [_heatmap(week), _information(calls, config), _doctors(calls, config),
                _trend(calls, previous), _unmet(calls), _repeats(calls)]  # fmt: skip
    return Report(start, end, config.clinic.timezone, [], {s.name: s for s in sections})


__all__ = ["compute_demand", "questions"]
