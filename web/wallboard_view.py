"""What the wallboard shows, as JSON-ready data: pure, from the live state and today's report.

One tile per queue (waiting, longest wait, today's service level, abandoned and missed, and
a level ``ok`` / ``amber`` / ``red`` from ``console.wallboard`` in the config) and one row per
operator (available / ringing / on call / wrap-up / paused / offline, with the pause reason
and since when).  docs/console.md describes the fields; web/wallboard_push.py sends this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from clinicall.reports.table import Value
from clinicall.settings.models import ClinicConfig, Wallboard
from clinicall.web.i18n import LANGUAGES
from clinicall.web.live import QueueNowLike, queue_name

#: Queue outcomes counted as "missed" on a tile (besides the abandons, shown apart).
MISSED_OUTCOMES = ("timeout", "empty", "cut")


class MemberNowLike(Protocol):
    """One operator in one queue (``controller.tracking.live.MemberNow``)."""

    @property
    def queue(self) -> str: ...
    @property
    def member(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def paused(self) -> bool: ...
    @property
    def pause_reason(self) -> str: ...
    @property
    def since(self) -> datetime: ...
    @property
    def call_ended_at(self) -> datetime | None: ...


class Status(StrEnum):
    """An operator's status on the grid, in the order a supervisor scans for trouble."""

    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    OFFLINE = "offline"


def level(longest_wait_s: float, service_level: float | None, limits: Wallboard) -> str:
    """``red`` past either red limit, else ``amber`` past either amber limit, else ``ok``.
    A day with no calls yet (service level None) is judged by the wait alone."""
    sl = 100.0 if service_level is None else service_level
    if longest_wait_s >= limits.wait_red_s or sl < limits.sl_red_pct:
        return "red"
    if longest_wait_s >= limits.wait_amber_s or sl < limits.sl_amber_pct:
        return "amber"
    return "ok"


def _number(value: Value | None) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def tiles(config: ClinicConfig, live: Mapping[str, QueueNowLike],
          today: Mapping[str, Mapping[str, Value]]) -> list[dict[str, object]]:
    """Every configured queue (and any other the engine or the day's report knows)."""
    out: list[dict[str, object]] = []
    for queue in [*config.queues, *sorted((set(live) | set(today)) - set(config.queues))]:
        now, day = live.get(queue), today.get(queue, {})
        longest = round(now.longest_wait_s, 1) if now is not None else 0.0
        sl = day.get("service_level")
        service_level = float(sl) if isinstance(sl, int | float) else None
        out.append({
            "queue": queue, "name": queue_name(config, queue),
            # one push serves every screen: each page picks its own language's name
            "names": {lang: queue_name(config, queue, lang) for lang in LANGUAGES},
            "waiting": now.waiting if now is not None else 0,
            "longest_wait_s": longest,
            "service_level": service_level,
            "abandoned": int(_number(day.get("abandoned"))),
            "missed": int(sum(_number(day.get(field)) for field in MISSED_OUTCOMES)),
            "level": level(longest, service_level, config.console.wallboard),
        })
    return out


def status(member: MemberNowLike, now: datetime, wrapup_s: int) -> Status:
    if member.state == "offline":
        return Status.OFFLINE
    if member.paused:
        return Status.PAUSED
    if member.state == "ringing":
        return Status.RINGING
    if member.state == "in_call":
        return Status.ON_CALL
    ended = member.call_ended_at
    if ended is not None and now - ended < timedelta(seconds=wrapup_s):
        return Status.WRAP_UP
    return Status.AVAILABLE


def operators(config: ClinicConfig, members: Iterable[MemberNowLike],
              now: datetime) -> list[dict[str, object]]:
    """One row per operator (a member in several queues is one row, its most telling status:
    on a call in one queue shows as on call everywhere)."""
    rows: dict[str, dict[str, object]] = {}
    for m in members:
        wrapup = config.queues[m.queue].wrapup_s if m.queue in config.queues else 0
        st = status(m, now, wrapup)
        row = rows.setdefault(m.member, {"member": m.member, "name": m.name or m.member,
                                         "queues": [], "status": Status.OFFLINE.value,
                                         "reason": "", "since": m.since.isoformat()})
        queues = row["queues"]
        assert isinstance(queues, list)
        queues.append(m.queue)
        if st is not Status.OFFLINE and _busier(st, Status(str(row["status"]))):
            wrap_end = (m.call_ended_at + timedelta(seconds=wrapup)
                        if st is Status.WRAP_UP and m.call_ended_at else None)
            row.update(status=st.value, reason=m.pause_reason if st is Status.PAUSED else "",
                       since=m.since.isoformat(),
                       wrapup_until=wrap_end.isoformat() if wrap_end else None)
    return sorted(rows.values(), key=lambda r: (BUSIEST_FIRST.index(Status(str(r["status"]))),
                                                str(r["name"])))


#: Which status a member in several queues shows, and the grid's order.
BUSIEST_FIRST = (Status.ON_CALL, Status.RINGING, Status.WRAP_UP, Status.PAUSED,
                 Status.AVAILABLE, Status.OFFLINE)


def _busier(new: Status, old: Status) -> bool:
    return BUSIEST_FIRST.index(new) < BUSIEST_FIRST.index(old)


def wallboard_state(config: ClinicConfig, live: Mapping[str, QueueNowLike],
                    members: Iterable[MemberNowLike], today: Mapping[str, Mapping[str, Value]],
                    now: datetime, *, connected: bool) -> dict[str, object]:
    limits = config.console.wallboard
    return {"at": now.isoformat(), "connected": connected,
            "at_local": now.astimezone(config.clinic.zone).strftime("%H:%M:%S"),
            "limits": {"wait_amber_s": limits.wait_amber_s, "wait_red_s": limits.wait_red_s,
                       "sl_amber_pct": limits.sl_amber_pct, "sl_red_pct": limits.sl_red_pct},
            "queues": tiles(config, live, today),
            "operators": operators(config, members, now)}
