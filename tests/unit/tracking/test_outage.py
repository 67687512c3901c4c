"""The store's outage in the log: two lines however long, a defect with its traceback."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import exc as sa

from clinicall.controller.tracking.outage import StoreOutage
from clinicall.db.reach import unreachable

LOGGER = "clinicall.test.outage"


def _refused() -> sa.OperationalError:
    return sa.OperationalError("INSERT ...", {}, ConnectionRefusedError(111, "Connection refused"))


@pytest.mark.parametrize(("error", "reason"), [
    (ConnectionRefusedError(111, "Connection refused"),
     "ConnectionRefusedError: [Errno 111] Connection refused"),
    (_refused(), "ConnectionRefusedError: [Errno 111] Connection refused"),
    (TimeoutError(), "TimeoutError"),
    (sa.OperationalError("SELECT 1", {}, Exception("database is locked")),
     "Exception: database is locked"),
    (ValueError("a bug"), None),
    (sa.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")), None),
])
def test_unreachable_tells_an_outage_from_a_defect(error: Exception, reason: str | None) -> None:
    assert unreachable(error) == reason


def test_an_outage_is_two_lines_however_many_writes_fail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    outage = StoreOutage(logging.getLogger(LOGGER), clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, LOGGER):
        for i in range(1000):
            now[0] = i * 0.03
            outage.failed(_refused(), "journal write", pending=i)
        outage.reached()
        outage.reached()  # reachable already: nothing more to say
    assert [r.getMessage() for r in caplog.records] == [
        "call tracking: the store is unreachable (ConnectionRefusedError: [Errno 111] "
        "Connection refused); 0 facts kept in memory, retrying with backoff",
        "call tracking: the store is reachable again after 30 s (1000 writes failed "
        "meanwhile); catching up",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_defect_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    outage = StoreOutage(logging.getLogger(LOGGER))
    with caplog.at_level(logging.WARNING, LOGGER):
        outage.failed(ValueError("a bug"), "journal write", pending=3)
    (record,) = caplog.records
    assert record.getMessage() == "call tracking: journal write failed"
    assert record.exc_info is not None
    assert record.exc_info[1] is not None
    assert outage.since is None  # not an outage
