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
from clinicall.controller.facts import CallDataSet, CallRouted
from clinicall.controller.port import CALLBACK_ANSWERED

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


#: The callback flow's line, written when the patient answers a callback (docs/callbacks.md,
#: "The callback call"): ``epoch|uniqueid|queue|NONE|CLINICALLCB|linkedid|ANSWER``.
CALLBACK_EVENT = "CLINICALLCB"


def decode_callback_mark(record: QueueLogRecord) -> CallDataSet | None:
    """The fact a CLINICALLCB record carries: the patient answered the callback call
    ``linkedid`` (durable: it reaches the account after a controller that was down comes
    back, and settles the attempt); None for any other record."""
    data = list(record.data)
    if record.event != CALLBACK_EVENT or len(data) < 2 or not data[0] or data[1] != "ANSWER":
        return None
    return CallDataSet(key=record.key, at=record.at, durable=True, seq=record.offset,
                       call_id=data[0], channel_id=record.uniqueid, name="outcome",
                       value=CALLBACK_ANSWERED)  # fmt: skip
