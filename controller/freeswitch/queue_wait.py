"""The keys that end a queue stay on FreeSWITCH: the route's wait timer's, and the in-queue
callback offer's.

mod_callcenter has only a per-queue ``max-wait-time``; a route may give up sooner
(``overflow_after_s``, as Asterisk's ``Queue()`` takes it per caller).  The generated dialplan
(clinicall/freeswitch_config/dialplan.py) makes the caller's channel leave its queue by key
(``cc_exit_keys``) when ``CLINICALL_MAX_WAIT`` seconds pass: a ``sched_api`` task injects
``WAIT_OVER_KEY`` as if received (``uuid_recv_dtmf``), mod_callcenter ends the stay with
``EXIT_WITH_KEY`` and ``cc_exit_key`` set to that key, and the dialplan moves the caller on to
the overflow queue as after the queue's own ``TIMEOUT``.  The operator's leg deletes the task
when it answers (``api_on_answer``, passed on by ``cc_export_vars``), and the dialplan deletes
it when the stay ends, so it never fires into a bridged call.  ``D`` is not on a phone's
keypad: a stay that ended by it is a timeout for the account (controller/freeswitch/esl_facts.py,
cdr.py), never a caller's choice.

With callbacks on, the offer's keys are exit keys too (docs/engines/freeswitch.md, "The
in-queue callback offer"): the patient's ``1`` (``ivr.callback_offer.OFFER_KEY``) and ``A``,
which the controller makes the channel receive when the estimated wait passed the queue's
threshold (as on Asterisk, where ``A`` tells an unasked offer from the patient's key).  A
stay that ended by one of them is an exit by key (``LeaveReason.EXIT_KEY``, with the key).
"""

from __future__ import annotations

from clinicall.agi_scripts import variables as v
from clinicall.controller.facts import LeaveReason
from clinicall.ivr.callback_offer import OFFER_KEY

#: The key the timer presses: RFC 4733 event 15, on no patient's keypad.
WAIT_OVER_KEY = "D"
#: The key the threshold offer makes the waiting caller's channel receive (RFC 4733 event 12).
OFFER_UNASKED_KEY = v.OFFER_UNASKED_KEY
#: The keys that take a waiting caller into the offer.
OFFER_KEYS = OFFER_KEY + OFFER_UNASKED_KEY


def timer_group(channel_variable: str) -> str:
    """The ``sched_api`` group of a caller's timer (``channel_variable`` expands to the
    caller's uuid), by which it is deleted."""
    return f"clinicall_wait_{channel_variable}"


def left_by_key(key: str | None) -> tuple[LeaveReason, str | None]:
    """Why a stay that mod_callcenter ended by an exit key (``EXIT_WITH_KEY``) ended, and the
    key the account keeps: the wait timer's key ran out the route's wait; any other key left
    the queue by the caller's choice (the offer).  ``None``: the key was not recorded (a CDR
    line of the template before ``cc_exit_key`` was in it, when the timer's key was the only
    exit key): a timeout."""
    if key is None or key == WAIT_OVER_KEY:
        return LeaveReason.TIMEOUT, None
    return LeaveReason.EXIT_KEY, key[:1] or None
