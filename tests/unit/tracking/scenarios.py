"""Realistic journal rows of single calls: Asterisk input (``asterisk_input``) and the IVR's
own account, as the tracker journals them."""

from __future__ import annotations

from asterisk_input import CALLER, CLINIC, UID, Ami, at, mark, ql_rows, rows_of

from clinicall.calltypes import CallInfo, IvrOutcome, Outcome, QueueRequest
from clinicall.controller.tracking.rows import JournalRow, ivr_entries, row_of

__all__ = ["CALLER", "CLINIC", "UID", "Ami", "at", "ivr_rows", "mark", "ql_rows", "rows_of"]


def ivr_rows(
    outcome: Outcome,
    *,
    queue: str | None = "cardiology",
    priority: int = 2,
    started: float = 1,
    ended: float = 9,
    linkedid: str = UID,
) -> list[JournalRow]:
    info = CallInfo(
        call_id=linkedid,
        channel_id=linkedid,
        caller_number=CALLER,
        caller_name="Олена Коваленко",
        dialled_number=CLINIC,
        engine="asterisk",
    )
    request = None
    if queue is not None:
        request = QueueRequest(queue=queue, priority=priority, max_wait_s=30,
                               overflow_queue="general", language="uk",
                               path="lang:1/main:2", route="cardio")  # fmt: skip
    result = IvrOutcome(language="uk", path="lang:1/main:2", route="cardio" if queue else None,
                        request=request, outcome=outcome)  # fmt: skip
    return [row_of(e) for e in ivr_entries(info, result, at(started), at(ended))]
