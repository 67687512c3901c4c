"""The durable record the account reconciles from after an outage: one CSV line per clinic
call, written by mod_cdr_csv whether or not the controller is connected.

mod_cdr_csv writes a call with the template named by its ``accountcode`` to
``<cdr dir>/<accountcode>.csv`` (besides ``Master.csv`` in the stock format), so the dialplan
sets ``accountcode=clinicall`` and this template, included into the stock
``cdr_csv.conf.xml``, says what the line holds: the call's ids and times, the hang-up, what
the IVR decided (the same variables as on Asterisk) and mod_callcenter's ``cc_*`` variables
of the caller's leg (queue, member, join/answer/end times, cause, agent, recording).
mod_callcenter keeps these for the caller's last queue only: an earlier queue of the same call
(before an overflow) is known from the live events, not from this line.
"""

from __future__ import annotations

from clinicall.controller.freeswitch.cdr import FIELDS as CDR_FIELDS
from clinicall.freeswitch_config.xmlfile import fragment

#: The accountcode the dialplan sets and the template's (and the CSV file's) name.
ACCOUNT = "clinicall"
#: The template's columns in order: the channel variables, written as ``"${name}"`` (the
#: account's reader of the file owns the list: controller/freeswitch/cdr.py).
FIELDS = CDR_FIELDS


def template_text() -> str:
    return ",".join(f'"${{{name}}}"' for name in FIELDS)


def cdr_template() -> str:
    lines = [f'  <template name="{ACCOUNT}">{template_text()}</template>']
    return fragment(lines, note="the CDR line of a clinic call: " + ", ".join(FIELDS))
