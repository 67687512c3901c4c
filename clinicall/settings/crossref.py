"""Checks that span sections: a name used in one place must be defined in another.

Each check yields a :class:`Finding` with the ``loc`` of the key that names the missing thing,
so the loader can point at its line.  Pure functions over the typed config; no file access.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import time

from pydantic import BaseModel

from clinicall.settings.models import Callbacks, ClinicConfig, Localized, Menu, TimeRange
from clinicall.settings.problems import Severity

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    loc: Loc
    message: str
    severity: Severity = "error"


def check(config: ClinicConfig) -> list[Finding]:
    """Every cross-section problem of ``config``, errors and warnings, in file order."""
    checks = (_languages, _routes, _operators, _services, _ivr, _menus, _unreachable,
              _texts, _fallback_staffed, _callbacks, _trunks, _outbound, _hours)
    return [finding for each in checks for finding in each(config)]


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f"unknown {kind} {name!r}; did you mean {close[0]!r}?"
    return f"unknown {kind} {name!r}; defined {kind}s: {', '.join(names) or 'none'}"


def _languages(c: ClinicConfig) -> Iterator[Finding]:
    if c.default_language not in c.languages:
        yield Finding(("default_language",),
                      f"{c.default_language!r} is not one of languages {c.languages}")
    for i, number in enumerate(c.numbers):
        if number.language is not None and number.language not in c.languages:
            yield Finding(("numbers", i, "language"),
                          f"{number.language!r} is not one of languages {c.languages}")
    seen: set[str] = set()
    for i, number in enumerate(c.numbers):
        if number.number in seen:
            yield Finding(("numbers", i, "number"), f"number {number.number!r} is listed twice")
        seen.add(number.number)


def _routes(c: ClinicConfig) -> Iterator[Finding]:
    for name, route in c.routes.items():
        if route.queue not in c.queues:
            yield Finding(("routes", name, "queue"), _unknown("queue", route.queue, c.queues))
        if route.overflow_to is not None and route.overflow_to not in c.queues:
            yield Finding(("routes", name, "overflow_to"),
                          _unknown("queue", route.overflow_to, c.queues))
        if route.doctor is not None and route.doctor not in c.doctors:
            yield Finding(("routes", name, "doctor"), _unknown("doctor", route.doctor, c.doctors))
        if route.overflow_to is not None and route.overflow_to == route.queue:
            yield Finding(("routes", name, "overflow_to"),
                          "a route cannot overflow into its own queue")


def _operators(c: ClinicConfig) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, op in enumerate(c.operators):
        if op.id in seen:
            yield Finding(("operators", i, "id"), f"operator id {op.id!r} is used twice")
        seen.add(op.id)
        for queue in op.queues:
            if queue not in c.queues:
                yield Finding(("operators", i, "queues", queue), _unknown("queue", queue, c.queues))


def _hours(c: ClinicConfig) -> Iterator[Finding]:
    """Opening intervals of one day must not overlap: which one closes the day is unclear."""
    days: list[tuple[Loc, list[TimeRange]]] = [
        (("hours", "weekly", day), ranges) for day, ranges in c.hours.weekly.items()]
    days += [(("hours", "holidays", i, "hours"), h.hours) for i, h in enumerate(c.hours.holidays)]
    for loc, ranges in days:
        ordered = sorted(enumerate(ranges), key=lambda item: item[1].start)
        for (_, first), (j, second) in itertools.pairwise(ordered):
            if second.start < first.end:
                merged = f"{_hhmm(first.start)}-{_hhmm(max(first.end, second.end))}"
                yield Finding((*loc, j), f"opening intervals overlap: "
                              f"'{_hhmm(first.start)}-{_hhmm(first.end)}' and "
                              f"'{_hhmm(second.start)}-{_hhmm(second.end)}'; write them as one, "
                              f"'{merged}'")


def _hhmm(t: time) -> str:
    return "24:00" if t == time(23, 59, 59) else t.strftime("%H:%M")


def _trunks(c: ClinicConfig) -> Iterator[Finding]:
    """A trunk's id names its SIP endpoint, so it must differ from every operator's and trunk's."""
    taken = {op.id for op in c.operators}
    for i, trunk in enumerate(c.trunks):
        if trunk.id in taken:
            yield Finding(("trunks", i, "id"), f"trunk id {trunk.id!r} is already an operator's "
                                               "or another trunk's (each names a SIP endpoint)")
        taken.add(trunk.id)


def _outbound(c: ClinicConfig) -> Iterator[Finding]:
    """The outbound trunk must be one of ``trunks``; a clinic that turns callbacks on with no
    outbound route is told that every call they place will be refused."""
    trunk = c.outbound.trunk
    if trunk is not None and trunk not in {t.id for t in c.trunks}:
        yield Finding(("outbound", "trunk"), _unknown("trunk", trunk, (t.id for t in c.trunks)))
    if c.callbacks.enabled and not c.outbound.configured:
        yield Finding(("callbacks", "enabled"),
                      "callbacks are on but no outbound route is configured (outbound.trunk "
                      "or outbound.context): every callback and reminder call will be refused "
                      "by the PBX", severity="warning")


def _services(c: ClinicConfig) -> Iterator[Finding]:
    for name, service in c.services.items():
        for i, doctor in enumerate(service.doctors):
            if doctor not in c.doctors:
                yield Finding(("services", name, "doctors", i),
                              _unknown("doctor", doctor, c.doctors))


def _ivr(c: ClinicConfig) -> Iterator[Finding]:
    if c.ivr.main_menu not in c.ivr.menus:
        yield Finding(("ivr", "main_menu"), _unknown("menu", c.ivr.main_menu, c.ivr.menus))
    if c.ivr.fallback_route not in c.routes:
        yield Finding(("ivr", "fallback_route"),
                      _unknown("route", c.ivr.fallback_route, c.routes))


def _menus(c: ClinicConfig) -> Iterator[Finding]:
    for name, menu in c.ivr.menus.items():
        for digit, option in menu.options.items():
            loc: Loc = ("ivr", "menus", name, "options", digit)
            if option.menu is not None and option.menu not in c.ivr.menus:
                yield Finding((*loc, "menu"), _unknown("menu", option.menu, c.ivr.menus))
            if option.menu == name:
                yield Finding((*loc, "menu"), f"menu {name!r} leads to itself: the caller "
                              "would hear it again and again; name another menu or a route")
            if option.route is not None and option.route not in c.routes:
                yield Finding((*loc, "route"), _unknown("route", option.route, c.routes))
            if option.say is not None and option.say.startswith("service:"):
                service = option.say.removeprefix("service:")
                if service not in c.services:
                    yield Finding((*loc, "say"), _unknown("service", service, c.services))


def _unreachable(c: ClinicConfig) -> Iterator[Finding]:
    """A menu no key leads to is dead text (a warning: it may be work in progress)."""
    reached, todo = set(), [c.ivr.main_menu]
    while todo:
        name = todo.pop()
        menu: Menu | None = c.ivr.menus.get(name)
        if name in reached or menu is None:
            continue
        reached.add(name)
        todo.extend(o.menu for o in menu.options.values() if o.menu is not None)
    for name in c.ivr.menus:
        if name not in reached:
            yield Finding(("ivr", "menus", name),
                          f"menu {name!r} cannot be reached from {c.ivr.main_menu!r}", "warning")


def _texts(c: ClinicConfig) -> Iterator[Finding]:
    """Every spoken text must exist in every configured language, or a caller hears nothing."""
    for loc, text in _localized(c, ()):
        missing = [lang for lang in c.languages if lang not in text]
        if missing:
            yield Finding(loc, f"missing text in {', '.join(missing)} "
                               f"(every text needs all of {', '.join(c.languages)})")


def _localized(value: object, loc: Loc) -> Iterator[tuple[Loc, dict[str, str]]]:
    if isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            child = getattr(value, name)
            if info.annotation in (Localized, Localized | None):
                if child is not None:
                    yield (*loc, name), child
            else:
                yield from _localized(child, (*loc, name))
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _localized(child, (*loc, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _localized(child, (*loc, i))


def _fallback_staffed(c: ClinicConfig) -> Iterator[Finding]:
    route = c.routes.get(c.ivr.fallback_route)
    if route is None or route.queue not in c.queues:
        return
    if not any(route.queue in op.queues for op in c.operators):
        yield Finding(("ivr", "fallback_route"),
                      f"no operator is a member of {route.queue!r}, the fallback queue: "
                      "callers will wait there until an operator logs in", "warning")


def _callbacks(c: ClinicConfig) -> Iterator[Finding]:
    for name, override in c.callbacks.queues.items():
        if name not in c.queues:
            yield Finding(("callbacks", "queues", name), _unknown("queue", name, c.queues))
        if override.first_attempt_min is not None:
            yield from _late_target(("callbacks", "queues", name, "first_attempt_min"),
                                    override.first_attempt_min, c.kpi.unreturned_after_min)
    yield from _late_target(("callbacks", "first_attempt_min"), c.callbacks.first_attempt_min,
                            c.kpi.unreturned_after_min)
    yield from _late_promotion(c.callbacks)
    if c.callbacks.enabled:
        for name, queue in c.queues.items():
            if queue.wrapup_s == 0:
                yield Finding(("queues", name, "wrapup_s"),
                              "with callbacks on and no wrap-up, the queue may ring a live "
                              "caller who came after a callback at the head of the line the "
                              "instant an operator hangs up; give it a wrap-up (1 s is "
                              "enough for the callback to take its turn, docs/callbacks.md)",
                              "warning")


def _late_promotion(callbacks: Callbacks) -> Iterator[Finding]:
    """A callback promoted only at or after its first attempt's target is promoted too late
    to meet it (docs/callbacks.md, "Exact place")."""
    places: list[tuple[Loc, int | None, int]] = [
        (("callbacks", "promote_after_min"), callbacks.promote_after_min,
         callbacks.first_attempt_min)]
    for name, own in callbacks.queues.items():
        first = own.first_attempt_min
        promote = own.promote_after_min
        if first is not None or promote is not None:
            loc: Loc = ("callbacks", "queues", name,
                        "promote_after_min" if promote is not None else "first_attempt_min")
            places.append((loc, promote if promote is not None else callbacks.promote_after_min,
                           first if first is not None else callbacks.first_attempt_min))
    for loc, promote, first in places:
        if promote is not None and first > 0 and promote >= first:
            yield Finding(loc, f"a callback is promoted after {promote} min, not before its "
                               f"first attempt's target ({first} min): promote it a few "
                               "minutes earlier for the target to hold on a long line",
                          "warning")


def _late_target(loc: Loc, first_attempt_min: int, unreturned_after_min: int) -> Iterator[Finding]:
    """A first-attempt target past the KPI's "returned within" time can never meet it."""
    if first_attempt_min > unreturned_after_min:
        yield Finding(loc, f"the first attempt ({first_attempt_min} min) comes after "
                           f"kpi.unreturned_after_min ({unreturned_after_min} min): every "
                           "missed call will count as unreturned", "warning")
