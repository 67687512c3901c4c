"""What the operator's page shows, as JSON-ready data: pure, from the desk's answers.

Their queues (the config's skills of the operator whose id is the user name) with whether they
are logged in and paused, and the call that rings them or that they talk on: the caller's
number and name, language, the route and IVR path in words, the wait, the number's previous
calls and its open callbacks and complaints (read from the store by web/operator_desk.py).
docs/console.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from clinicall.settings.models import ClinicConfig, Operator
from clinicall.web.i18n import Lang
from clinicall.web.live import queue_name

SEPARATOR = " › "


class MembershipLike(Protocol):
    @property
    def queue(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def paused(self) -> bool: ...
    @property
    def pause_reason(self) -> str: ...


class LiveCallLike(Protocol):
    @property
    def call_id(self) -> str: ...
    @property
    def queue(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def caller_number(self) -> str: ...
    @property
    def caller_name(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def route(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def joined_at(self) -> datetime | None: ...
    @property
    def rung_at(self) -> datetime: ...
    @property
    def answered_at(self) -> datetime | None: ...


def operator_of(config: ClinicConfig, username: str) -> Operator | None:
    """The config's operator for a web user: the one whose id is the user name."""
    return next((op for op in config.operators if op.id == username), None)


def _words(ident: str) -> str:
    return ident.replace("_", " ").capitalize()


def _named(names: Mapping[Any, str] | None, ident: str, lang: str | None,
           default: str) -> str:
    """The config's name in ``lang``, else in the clinic's language, else the id in words."""
    if names:
        return names.get(lang or default) or names.get(default) or _words(ident)
    return _words(ident)


def route_in_words(config: ClinicConfig, route: str, lang: str | None = None) -> str:
    """The route's topic and the queue it goes to: "Gynecology (Гінекологія)"."""
    if not route:
        return ""
    target = config.routes.get(route)
    topic = _route_topic(config, route, lang)
    queue = queue_name(config, target.queue, lang) if target is not None else ""
    return f"{topic} ({queue})" if queue and queue != topic else topic


def _route_topic(config: ClinicConfig, route: str, lang: str | None) -> str:
    """The route's own name; a route named after its queue says the queue's name."""
    target = config.routes.get(route)
    if target is not None and not target.name and target.queue == route:
        return queue_name(config, route, lang)
    return _named(target.name if target else None, route, lang, config.default_language)


def path_in_words(config: ClinicConfig, path: str, lang: str | None = None) -> str:
    """The IVR path as the caller went: ``lang:1/main:1/appointments:2`` is
    "Appointments › Gynecology" (each menu left by an option, the last one's route), each in
    ``lang`` where the config names it (menus, routes, services)."""
    steps: list[str] = []
    default = config.default_language
    for step in filter(None, path.split("/")):
        menu_id, _, digit = step.partition(":")
        menu = config.ivr.menus.get(menu_id)
        option = menu.options.get(digit) if menu is not None else None
        if option is None:
            continue  # the language menu, or a key the menu did not have
        if option.menu:
            target = config.ivr.menus.get(option.menu)
            steps.append(_named(target.name if target else None, option.menu, lang, default))
        elif option.route:
            steps.append(_route_topic(config, option.route, lang))
        else:
            service = (option.say or "").removeprefix("service:")
            known = config.services.get(service)
            steps.append(_named(known.name if known else None, service, lang, default))
    return SEPARATOR.join(steps)


def desk_state(config: ClinicConfig, operator: Operator, memberships: Iterable[MembershipLike],
               call: LiveCallLike | None, caller_e164: str | None,
               previous: Sequence[Mapping[str, object]], now: datetime,
               lang: Lang = "en",
               open_cases: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
               ) -> dict[str, object]:
    seen = {m.queue: m for m in memberships if m.state != "offline"}
    reasons = config.console.pause_reasons

    def label(reason: str) -> str:  # the reason's words in the page's language
        return reasons[reason].get(lang, reason) if reason in reasons else reason

    queues = [{"queue": q, "name": queue_name(config, q, lang), "logged_in": q in seen,
               "paused": seen[q].paused if q in seen else False,
               "reason": seen[q].pause_reason if q in seen else "",
               "reason_label": label(seen[q].pause_reason) if q in seen else ""}
              for q in operator.queues]
    paused = [q for q in queues if q["paused"]]
    return {"at": now.isoformat(), "operator": operator.id, "name": operator.name,
            "queues": queues, "paused": bool(paused),
            "reason": paused[0]["reason"] if paused else "",
            "reason_label": paused[0]["reason_label"] if paused else "",
            "call": _call(config, call, caller_e164, previous, now, open_cases or {}, lang)
            if call else None}


def _call(config: ClinicConfig, call: LiveCallLike, caller_e164: str | None,
          previous: Sequence[Mapping[str, object]], now: datetime,
          open_cases: Mapping[str, Sequence[Mapping[str, object]]],
          lang: Lang = "en") -> dict[str, object]:
    waited_until = call.answered_at or now  # the wait ends when they answer
    wait = (waited_until - call.joined_at).total_seconds() if call.joined_at else None
    return {"call_id": call.call_id, "phase": call.phase,
            "number": caller_e164 or call.caller_number, "name": call.caller_name,
            "language": call.language, "queue": call.queue,
            "queue_name": queue_name(config, call.queue, lang),
            "route": route_in_words(config, call.route, lang),
            "path": path_in_words(config, call.path, lang),
            "wait_s": round(wait, 1) if wait is not None else None,
            "previous": list(previous),
            "callbacks": list(open_cases.get("callbacks", ())),
            "complaints": list(open_cases.get("complaints", ()))}
