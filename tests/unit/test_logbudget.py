"""The log's repeat budget: one line per cause per interval, with the count of the rest."""

from __future__ import annotations

import logging

from clinicall.logbudget import RepeatBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(msg: str, *args: object, level: int = logging.WARNING, name: str = "x",
            exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)


def test_a_cause_passes_once_per_interval_and_then_says_how_many_were_dropped() -> None:
    clock = Clock()
    budget = RepeatBudget(60, clock=clock)
    assert budget.filter(_record("write failed: %s", "refused"))
    clock.now = 1
    dropped = [budget.filter(_record("write failed: %s", f"reason {i}")) for i in range(500)]
    assert not any(dropped)
    clock.now = 61
    later = _record("write failed: %s", "refused", exc=ValueError("boom"))
    assert budget.filter(later)
    assert later.getMessage() == "write failed: refused (500 more like this in the last 61 s)"
    assert later.exc_info is None  # the first one carried the traceback
    assert budget.dropped == 500


def test_a_cause_is_logger_level_and_template() -> None:
    budget = RepeatBudget(60, clock=Clock())
    assert budget.filter(_record("a %s", 1))
    assert budget.filter(_record("a %s", 1, name="y"))
    assert budget.filter(_record("a %s", 1, level=logging.ERROR))
    assert budget.filter(_record("b %s", 1))
    assert not budget.filter(_record("a %s", 2))


def test_after_a_quiet_interval_the_next_line_passes_unchanged() -> None:
    clock = Clock()
    budget = RepeatBudget(10, clock=clock)
    assert budget.filter(_record("up"))
    clock.now = 11
    again = _record("up")
    assert budget.filter(again)
    assert again.getMessage() == "up"


def test_the_table_of_causes_is_bounded() -> None:
    budget = RepeatBudget(60, max_causes=100, clock=Clock())
    for i in range(10_000):
        budget.filter(_record(f"peer text {i}"))  # a template that varies: each a new cause
    assert budget.causes() == 100


def test_a_handler_with_the_budget_writes_a_handful_of_lines_for_a_flood() -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.addFilter(RepeatBudget(60))
    logger = logging.getLogger("clinicall.test.flood")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(29_000):
            logger.warning("journal write failed: %s", "connection refused")
    finally:
        logger.removeHandler(handler)
    assert lines == ["journal write failed: connection refused"]
