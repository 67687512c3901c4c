"""Names of the Asterisk channel variables clinicall sets and reads, in one place.

The IVR session (FastAGI) sets them before it returns the call to the dialplan; the generated
dialplan after ``AGI()`` reads them to run ``Queue()``.  Both sides import these constants so
the names can never drift apart.  Plain ``str`` on purpose: the dialplan generator renders
them as ``${CLINICALL_QUEUE}``.
"""

from __future__ import annotations

from typing import Final

# Set by the IVR when it hands the caller to a queue (see AsteriskCallPort.enqueue).
CLINICALL_QUEUE: Final = "CLINICALL_QUEUE"  # app_queue queue name
CLINICALL_PRIORITY: Final = "CLINICALL_PRIORITY"  # integer, higher is served first
CLINICALL_MAX_WAIT: Final = "CLINICALL_MAX_WAIT"  # seconds, Queue()'s timeout argument
CLINICALL_OVERFLOW: Final = "CLINICALL_OVERFLOW"  # queue to try after max wait; '' = none
CLINICALL_LANG: Final = "CLINICALL_LANG"  # uk | ru | en, the language chosen in the IVR
CLINICALL_PATH: Final = "CLINICALL_PATH"  # IVR path, e.g. "lang:2/main:1/appointments:3"
CLINICALL_ROUTE: Final = "CLINICALL_ROUTE"  # route id from the clinic config
CLINICALL_OUTCOME: Final = "CLINICALL_OUTCOME"  # one of the OUTCOME_* values below
CLINICALL_SURVEY: Final = "CLINICALL_SURVEY"  # '1': the post-call survey follows the operator

# Values of CLINICALL_OUTCOME.  Unset after AGI() means clinicall did not run or failed:
# the dialplan then fails open into the default queue.
OUTCOME_QUEUE: Final = "queue"
OUTCOME_SELFSERVED: Final = "selfserved"
OUTCOME_AFTERHOURS: Final = "afterhours"
OUTCOME_HANGUP: Final = "hangup"
OUTCOMES: Final = (OUTCOME_QUEUE, OUTCOME_SELFSERVED, OUTCOME_AFTERHOURS, OUTCOME_HANGUP)

# Asterisk's own names.
QUEUE_PRIO: Final = "QUEUE_PRIO"  # read by app_queue as the caller's priority
CHANNEL_LANGUAGE: Final = "CHANNEL(language)"  # prompts and SAY NUMBER follow it
CHANNEL_LINKEDID: Final = "CHANNEL(linkedid)"  # id shared by every channel of one call
AGISIGHUP: Final = "AGISIGHUP"  # 'yes' (default): Asterisk sends the HANGUP line
# Set by app_queue on the caller's channel when it is bridged to a member (``setqueuevar``,
# ``setinterfacevar`` in queues.conf): the queue and the member's name (the operator id).
QUEUENAME: Final = "QUEUENAME"
MEMBERNAME: Final = "MEMBERNAME"

# The IVR's FastAGI script name and its arguments as the dialplan passes them:
# ``AGI(agi://127.0.0.1:4573/ivr,${CHANNEL(linkedid)})``.  Passing the linkedid as the first
# argument saves one round trip per call (res_agi sends no agi_linkedid).
IVR_SCRIPT: Final = "ivr"
IVR_AGI_ARGS: Final = ("${CHANNEL(linkedid)}",)

# The post-call survey: after an operator hung up on a patient who agreed, the dialplan calls
# ``AGI(agi://127.0.0.1:4573/survey,<linkedid>,<language>,<queue>,<operator>,<route>)``.
SURVEY_SCRIPT: Final = "survey"
# An appointment reminder the clinic placed, answered by the patient (docs/reminders.md):
# ``AGI(agi://127.0.0.1:4573/reminder,<linkedid>,<appointment id>)``; the originate sets
# ``CLINICALL_APPOINTMENT`` (its call data ``appointment``).
REMINDER_SCRIPT: Final = "reminder"
CLINICALL_APPOINTMENT: Final = "CLINICALL_APPOINTMENT"
REMINDER_AGI_ARGS: Final = ("${CHANNEL(linkedid)}", "${" + CLINICALL_APPOINTMENT + "}")
SURVEY_AGI_ARGS: Final = (
    "${CHANNEL(linkedid)}",
    "${" + CLINICALL_LANG + "}",
    "${" + QUEUENAME + "}",
    "${" + MEMBERNAME + "}",
    "${" + CLINICALL_ROUTE + "}",
)

# The callback call (docs/callbacks.md, "The callback call"): the operator's answered leg runs
# ``AGI(agi://127.0.0.1:4573/callback,<linkedid>,<job>,operator)`` (the whisper), then the
# patient's answered leg ``AGI(...,<job>,patient)`` (the greeting) before the two are bridged;
# the originate sets ``CLINICALL_CALLBACK`` (its call data ``callback``: the job's id).
CALLBACK_SCRIPT: Final = "callback"
CLINICALL_CALLBACK: Final = "CLINICALL_CALLBACK"
#: FreeSWITCH: whose leg of the callback call the outbound socket is given (``operator``).
CLINICALL_CALLBACK_SIDE: Final = "CLINICALL_CALLBACK_SIDE"
# Set to "0" on the patient's leg by the greeting when the clinic asks for a confirm key and
# none was pressed: the dialplan then does not put the patient through (docs/callbacks.md).
CLINICALL_CONFIRMED: Final = "CLINICALL_CONFIRMED"

# ``clinicall doctor``'s probe (docs/engines/asterisk.md, "The doctor's FastAGI probe"): the
# dialplan's ``clinicall-doctor`` context runs ``AGI(agi://<host>:<port>/doctor)``; the script
# only sets ``CLINICALL_DOCTOR`` to ``DOCTOR_ANSWER``, so the probe's report tells clinicall's
# FastAGI apart from anything else listening on that port.
DOCTOR_SCRIPT: Final = "doctor"
CLINICALL_DOCTOR: Final = "CLINICALL_DOCTOR"
DOCTOR_ANSWER: Final = "clinicall"

# The in-queue callback offer (docs/callbacks.md, "The offer in the queue"): the offer key
# pressed while waiting ends ``Queue()`` into ``clinicall-offer``, which calls
# ``AGI(agi://127.0.0.1:4573/offer,<linkedid>,<language>,<queue>,<priority>,<queued at>)``.
# Before each ``Queue()`` the dialplan sets the queue the caller waits in and the instant
# (epoch seconds with microseconds) they joined it: the place a booked callback keeps.
OFFER_SCRIPT: Final = "offer"
#: The key the controller presses for the caller (AMI ``PlayDTMF`` with ``Receive``) when their
#: estimated wait passed the queue's threshold: DTMF ``A``, which a patient's phone does not
#: send, so queue_log's ``EXITWITHKEY|A`` tells an unasked offer from the patient's ``1``.
OFFER_UNASKED_KEY: Final = "A"
CLINICALL_IN_QUEUE: Final = "CLINICALL_IN_QUEUE"
CLINICALL_QUEUED_AT: Final = "CLINICALL_QUEUED_AT"
OFFER_AGI_ARGS: Final = (
    "${CHANNEL(linkedid)}",
    "${" + CLINICALL_LANG + "}",
    "${" + CLINICALL_IN_QUEUE + "}",
    "${" + QUEUE_PRIO + "}",
    "${" + CLINICALL_QUEUED_AT + "}",
)
