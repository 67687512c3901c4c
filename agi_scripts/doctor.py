"""The ``doctor`` FastAGI script: the answer to ``clinicall doctor``'s probe.

The doctor makes Asterisk itself connect to the FastAGI port (docs/engines/asterisk.md, "The
doctor's FastAGI probe"); this script answers at once with one ``SET VARIABLE`` and returns
the channel to the dialplan: no IVR, no store write, no call in the account.
"""

from __future__ import annotations

from clinicall.agi_scripts import variables as v
from clinicall.agi_scripts.channel import AgiCommands


async def answer_doctor(channel: AgiCommands) -> None:
    """Say "clinicall answered" on the probe's channel; closing the connection ends AGI()."""
    await channel.command("SET VARIABLE", v.CLINICALL_DOCTOR, v.DOCTOR_ANSWER)
