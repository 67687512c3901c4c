"""``clinicall doctor``'s probe channels: named here so the account can leave them out.

The doctor originates ``Local/<probe>@clinicall-doctor/n`` (docs/engines/asterisk.md, "The
doctor's FastAGI probe"): the dialplan answers, runs ``AGI(.../doctor)`` and reports
``AGISTATUS`` with ``UserEvent(ClinicallDoctor, ...)``.  Both halves of that Local channel are
named ``Local/<probe>@clinicall-doctor-<n>;1`` and ``;2``; their events are no patient's call,
so the AMI decoder gives them no facts (:func:`is_probe_channel`).
"""

from __future__ import annotations

DOCTOR_CONTEXT = "clinicall-doctor"
#: The UserEvent the probe context sends after ``AGI()`` (headers ``Probe``, ``Status``,
#: ``Answer``).
DOCTOR_EVENT = "ClinicallDoctor"
_PROBE_NAME = f"@{DOCTOR_CONTEXT}-"


def is_probe_channel(channel: str) -> bool:
    """Whether an AMI ``Channel`` header names a half of the doctor's probe."""
    return channel.startswith("Local/") and _PROBE_NAME in channel
