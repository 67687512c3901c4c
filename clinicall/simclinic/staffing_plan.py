"""How many simulated operators each queue has in each hour: fixed counts, or the staffing
advice of the weeks before (``reports.staffing``), for ``clinicall simulate --day``.

``--operators 'ultrasound=2,universal=3'`` staffs each named queue with that many operators the
whole day (queues not named: the operators the config lists in them at penalty 0, at least
one).  ``--operators advised`` staffs each queue and local hour with Erlang A's advice
(``agents_erlang_a``) of the whole weeks before the day, as ``clinicall staffing`` gives it;
a queue and hour the advice has no row for (no call in that hour of the history) gets one
operator while the clinic is open, so no queue is left empty; in the hour right after closing
the last open hour's operators stay (callers still waiting are answered), later nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.reports.staffing import Target, compute_staffing
from clinicall.routing.hours import OpeningHours
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.day import hour_starts
from clinicall.simclinic.floor import Staffing

ADVISED = "advised"


class StaffingError(ValueError):
    """An ``--operators`` value that names no queue, or a count that is not a number."""


def parse_operators(text: str, config: ClinicConfig) -> dict[str, int]:
    """``queue=N,...`` into counts per queue, the config's staffing for the rest."""
    counts = {qid: max(1, sum(1 for op in config.operators if op.queues.get(qid) == 0))
              for qid in config.queues}  # fmt: skip
    for part in filter(None, (p.strip() for p in text.split(","))):
        queue, sep, count = part.partition("=")
        if not sep or queue.strip() not in config.queues:
            raise StaffingError(f"--operators: {part!r} is not QUEUE=N with a queue of the "
                                f"config ({', '.join(config.queues)})")  # fmt: skip
        try:
            n = int(count)
        except ValueError:
            raise StaffingError(f"--operators: {count!r} is not a whole number") from None
        if not 0 <= n <= 200:
            raise StaffingError(f"--operators: {n} operators for {queue}: expected 0-200")
        counts[queue.strip()] = n
    return counts


def fixed_staffing(counts: Mapping[str, int]) -> Staffing:
    """The same operators all day, every hour."""
    return lambda queue, hour: counts.get(queue, 0) if hour < 24 else 0


def open_hours(config: ClinicConfig, day: date) -> list[bool]:
    """Per local hour 0-23 of ``day``: open at any minute of it."""
    hours = OpeningHours.from_config(config.hours, config.clinic.zone)
    starts = hour_starts(day, config.clinic.zone)
    return [any(hours.is_open(starts[h] + timedelta(minutes=m)) for m in range(0, 60, 5))
            for h in range(24)]  # fmt: skip


async def advised_staffing(session: AsyncSession, config: ClinicConfig, day: date,
                           weeks: int) -> tuple[Staffing, dict[tuple[str, int], int]]:  # fmt: skip
    """Erlang A's advice from the ``weeks`` whole weeks (Monday to Sunday) before ``day``'s
    week, applied as the module docstring says; also the advice itself per (queue, hour)."""
    zone = config.clinic.zone
    monday = day - timedelta(days=day.isoweekday() - 1)
    start = datetime.combine(monday - timedelta(weeks=weeks), time(), zone)
    end = datetime.combine(monday, time(), zone)
    report = await compute_staffing(session, start=start, end=end, config=config,
                                    target=Target())  # fmt: skip
    advice: dict[tuple[str, int], int] = {}
    for row in report.section("staffing").rows:
        agents = row["agents_erlang_a"]
        if row["weekday"] == day.isoweekday() and isinstance(agents, int):
            advice[(str(row["queue"]), int(str(row["hour"])))] = agents
    is_open = open_hours(config, day)

    def staffing(queue: str, hour: int) -> int:
        if hour >= 24:
            return 0
        if is_open[hour]:
            return max(1, advice.get((queue, hour), 0))
        if hour > 0 and is_open[hour - 1]:
            return staffing(queue, hour - 1)  # the hour after closing drains the queue
        return 0

    return staffing, advice
