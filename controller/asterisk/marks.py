"""The dialplan's own queue_log line, written right before ``Queue()``.

The generated dialplan runs::

    QueueLog(${CLINICALL_QUEUE},${UNIQUEID},NONE,CLINICALL,${CHANNEL(linkedid)}|${CLINICALL_OUTCOME}|
             ${CLINICALL_LANG}|${CLINICALL_ROUTE}|${CLINICALL_PATH}|${CALLERID(num)}|${CLINICALL_DIALLED})

giving ``epoch|uniqueid|queue|NONE|CLINICALL|linkedid|outcome|lang|route|path|caller|dialled``.
queue_log alone thus maps a channel (uniqueid) to its call (linkedid) and carries what the IVR
decided, even when the controller was down (outcome ``fallback``).  The generic queue_log
parser keeps such a line as a plain ``QueueLogRecord`` with its ``data`` fields; this module
gives them names.
"""

from __future__ import annotations

from clinicall.controller.asterisk.queue_log import QueueLogRecord
from clinicall.controller.facts import CallRouted

EVENT = "CLINICALL"
FIELDS = 7  # linkedid outcome lang route path caller dialled


def decode_mark(record: QueueLogRecord) -> CallRouted | None:
    """The routing fact a CLINICALL record carries (durable, under the record's own key);
    None for any other record or a short one.

    A caller ID holding '|' (not escaped by Asterisk) only widens the caller field.
    """
    data = list(record.data)
    if record.event != EVENT or len(data) < FIELDS or not data[0]:
        return None
    if len(data) > FIELDS:
        data = [*data[:5], "|".join(data[5:-1]), data[-1]]
    linkedid, outcome, language, route, path, caller, dialled = data
    return CallRouted(key=record.key, at=record.at, durable=True, seq=record.offset,
                      call_id=linkedid, channel_id=record.uniqueid, queue=record.queue,
                      outcome=outcome, language=language, route=route, path=path,
                      caller=caller, dialled=dialled)  # fmt: skip
