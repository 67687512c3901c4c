"""The route's wait before overflow on FreeSWITCH: a timer that presses a key.

mod_callcenter has only a per-queue ``max-wait-time``; a route may give up sooner
(``overflow_after_s``, as Asterisk's ``Queue()`` takes it per caller).  The generated dialplan
(clinicall/freeswitch_config/dialplan.py) makes the caller's channel leave its queue by key
(``cc_exit_keys``) when ``CLINICALL_MAX_WAIT`` seconds pass: a ``sched_api`` task injects
``WAIT_OVER_KEY`` as if received (``uuid_recv_dtmf``), mod_callcenter ends the stay with
``EXIT_WITH_KEY`` and ``cc_exit_key`` set to that key, and the dialplan moves the caller on to
the overflow queue as after the queue's own ``TIMEOUT``.  The operator's leg deletes the task
when it answers (``api_on_answer``, passed on by ``cc_export_vars``), and the dialplan deletes
it when the stay ends, so it never fires into a bridged call.  A stay that ended by this key
is a timeout for the account (controller/freeswitch/esl_facts.py, cdr.py), never a caller's
choice: ``D`` is not on a phone's keypad, and clinicall sets no other exit key on FreeSWITCH
(docs/engines/freeswitch.md, "Entering the queue").
"""

from __future__ import annotations

#: The key the timer presses: RFC 4733 event 15, on no patient's keypad.
WAIT_OVER_KEY = "D"


def timer_group(channel_variable: str) -> str:
    """The ``sched_api`` group of a caller's timer (``channel_variable`` expands to the
    caller's uuid), by which it is deleted."""
    return f"clinicall_wait_{channel_variable}"
