"""Asterisk's durable record for the account: ``queue_log`` read from a cursor into neutral facts.

The cursor the account stores is the tail's position (byte offset, inode, lines consumed,
first-line fingerprint, see ``queue_log.tail``) as a JSON object; it is saved in the same
transaction as the facts it covers, so a re-read after a crash is harmless (each line keeps its
journal key).  Malformed lines are logged (the first of a batch, bounded) and skipped.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

from clinicall.controller.asterisk.queue_log import QueueLogTail
from clinicall.controller.asterisk.queue_log.tail import TailState
from clinicall.controller.asterisk.record_facts import decode_record
from clinicall.controller.port import ReconcileBatch

logger = logging.getLogger(__name__)

#: ``ingest_state.source`` of queue_log's cursor (the same name before and after the account
#: became engine-neutral, so a store keeps its position across the upgrade).
RECORD_NAME = "queue_log"


class QueueLogRecord:
    """Reads one queue_log path for the account (``CallTracker``'s ``DurableRecord``)."""

    record_name = RECORD_NAME

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._tail: QueueLogTail | None = None
        self._cursor: Mapping[str, Any] | None = None  # what the open tail stands at

    async def reconcile(self, cursor: Mapping[str, Any] | None) -> ReconcileBatch:
        """The facts of the lines after ``cursor`` (None: from the top), up to a batch's size."""
        tail = self._tail_at(cursor)
        batch = await tail.read_async()
        if batch.errors:
            logger.warning("queue_log: %d malformed line(s) skipped, first: %s",
                           len(batch.errors), batch.errors[0])  # fmt: skip
        if batch.restarted:
            logger.info("queue_log read from its top again (%s)", batch.restarted)
        facts = [fact for record in batch.records for fact in decode_record(record)]
        self._cursor = dataclasses.asdict(batch.state)
        return ReconcileBatch(facts, self._cursor, more=batch.more, skipped=len(batch.errors))

    def _tail_at(self, cursor: Mapping[str, Any] | None) -> QueueLogTail:
        if self._tail is None or cursor != self._cursor:
            state = TailState(**cursor) if cursor else TailState()
            self._tail = QueueLogTail(self.path, state)
        return self._tail
