"""Asterisk's ``queue_log``: sans-IO parser, typed records and an incremental file reader.

queue_log is the engine's own account of every queue event, written even when the controller
is down; reading it after a restart is how missed events are reconciled (fail open).
"""

from clinicall.controller.asterisk.queue_log.parser import (
    ParsedChunk,
    QueueLogError,
    parse_chunk,
    parse_line,
    record_key,
)
from clinicall.controller.asterisk.queue_log.records import (
    Abandon,
    AttendedTransfer,
    Complete,
    ConfigReload,
    Connect,
    EnterQueue,
    ExitEmpty,
    ExitWithKey,
    ExitWithTimeout,
    LeftUnanswered,
    MemberAdded,
    MemberRemoved,
    Paused,
    QueueLogRecord,
    QueueStart,
    RingCanceled,
    RingNoAnswer,
    Transfer,
    Unpaused,
)
from clinicall.controller.asterisk.queue_log.tail import QueueLogTail, TailBatch, TailState

__all__ = [
    "Abandon",
    "AttendedTransfer",
    "Complete",
    "ConfigReload",
    "Connect",
    "EnterQueue",
    "ExitEmpty",
    "ExitWithKey",
    "ExitWithTimeout",
    "LeftUnanswered",
    "MemberAdded",
    "MemberRemoved",
    "ParsedChunk",
    "Paused",
    "QueueLogError",
    "QueueLogRecord",
    "QueueLogTail",
    "QueueStart",
    "RingCanceled",
    "RingNoAnswer",
    "TailBatch",
    "TailState",
    "Transfer",
    "Unpaused",
    "parse_chunk",
    "parse_line",
    "record_key",
]
