"""The FastAGI check, from Asterisk itself: the doctor's probe (docs/engines/asterisk.md, "The
doctor's FastAGI probe").

The doctor originates ``Local/<probe>@clinicall-doctor/n`` over AMI.  That Local channel dials
nobody: the generated ``clinicall-doctor`` context answers it, runs ``AGI()`` with the URL the
clinic's calls use (script ``doctor``), and reports ``AGISTATUS`` and what the script set in
``UserEvent(ClinicallDoctor, Probe, Status, Answer)``.  The account leaves the probe's
channels out (``controller/asterisk/doctor_probe.py``).  Connecting from this host is only
the detail added when Asterisk could not be asked or found nothing.

:func:`probe_verdict` (the event → the check) is pure; :func:`fastagi_from_asterisk` does the
I/O.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from clinicall.agi_scripts import variables as v
from clinicall.asterisk_config.dialplan import DOCTOR_PROBE_MAX_S, agi_url
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.doctor_probe import DOCTOR_CONTEXT, DOCTOR_EVENT
from clinicall.doctor.ami_session import AmiSession
from clinicall.doctor.result import Check, failed, passed
from clinicall.settings.models import ClinicConfig

NAME = "fastagi"
START = "start 'clinicall run' (or the clinicall service); check engine.agi_host and agi_port"
#: The AGISTATUS res_agi sets when it could not connect or the session broke.
FAILURE = "FAILURE"


@dataclass(frozen=True, slots=True)
class Target:
    """Where Asterisk's ``AGI()`` connects: the host and port of the dialplan's URL."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def of(cls, config: ClinicConfig, url: str | None) -> Target:
        """From the ``--agi-url`` given to asterisk-config, else the config's FastAGI."""
        parts = urlsplit(url or agi_url(config))
        return cls(parts.hostname or "127.0.0.1", parts.port or 4573)


def probe_id() -> str:
    """Digits only: the probe is the extension dialled in ``clinicall-doctor`` (``_X.``)."""
    return f"{secrets.randbelow(10**12):012d}"


def is_report_of(probe: str, message: Message) -> bool:
    """Whether an AMI event is the probe context's report of ``probe``."""
    return (message.event.lower() == "userevent"
            and message.get("UserEvent", "").lower() == DOCTOR_EVENT.lower()
            and message.get("Probe", "") == probe)


def probe_verdict(report: Message | None, target: Target, *, waited_s: float,
                  from_here: str | None = None) -> Check:
    """The check from the probe's report (None: none came in ``waited_s``); ``from_here`` is
    the detail of connecting from this host, added to a failure when given."""
    here = f"; {from_here}" if from_here else ""
    if report is None:
        return failed(NAME, f"Asterisk did not report the probe within {waited_s:g} s{here}",
                      f"load the generated dialplan (its [{DOCTOR_CONTEXT}] context): run "
                      "'clinicall asterisk-config' and 'asterisk -rx \"dialplan reload\"'")
    status = report.get("Status", "") or "(none)"
    if report.get("Answer", "") == v.DOCTOR_ANSWER:
        return passed(NAME, f"Asterisk reached FastAGI at {target} (AGISTATUS {status})")
    if status == FAILURE:
        return failed(NAME, f"Asterisk found no FastAGI answering at {target} (AGISTATUS "
                            f"{status}){here}",
                      START + "; nothing may stand between Asterisk and that address")
    # A server that closes without a word, clinicall's own refusing Asterisk's address among
    # them, leaves AGISTATUS SUCCESS (docs/engines/asterisk.md).
    return failed(NAME, f"something at {target} took Asterisk's connection but did not answer "
                        f"as clinicall (AGISTATUS {status}){here}",
                  "if clinicall listens there, add the address Asterisk connects from to "
                  "engine.agi_allow; else stop what else listens there, or give clinicall "
                  "another engine.agi_port and regenerate the dialplan")


async def fastagi_from_asterisk(ami: AmiSession, config: ClinicConfig, url: str | None,
                                timeout_s: float) -> Check:
    """Originate the probe (no one is called), await its report, judge it.  The AMI session
    must receive ``user`` events."""
    target = Target.of(config, url)
    probe = probe_id()
    report = ami.expect(lambda message: is_report_of(probe, message))
    try:
        await ami.action("Originate", {
            "Channel": f"Local/{probe}@{DOCTOR_CONTEXT}/n",
            "Application": "Wait", "Data": str(DOCTOR_PROBE_MAX_S),
            "Timeout": str(int(timeout_s * 1000)), "Async": "true",
            "ChannelId": f"doctor-{probe}", "OtherChannelId": f"doctor-{probe}-2",
            "CallerID": "clinicall doctor <0>"})  # fmt: skip
        async with asyncio.timeout(timeout_s):
            heard: Message | None = await report
    except TimeoutError:
        heard = None
    finally:
        report.cancel()
    from_here = None
    if heard is None or heard.get("Answer", "") != v.DOCTOR_ANSWER:
        from_here = await connect_from_here(target, timeout_s)
    return probe_verdict(heard, target, waited_s=timeout_s, from_here=from_here)


async def connect_from_here(target: Target, timeout_s: float) -> str:
    """One TCP connect from this host, said in words (the fallback detail)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(target.host, target.port),
                                           timeout_s)
    except TimeoutError:
        return f"from this host, {target} does not answer in time"
    except OSError as exc:
        return f"from this host, {target} refuses connections ({exc.strerror or exc})"
    writer.close()
    await writer.wait_closed()
    return f"from this host, {target} accepts connections"


async def fastagi_unchecked(config: ClinicConfig, url: str | None, timeout_s: float) -> Check:
    """AMI down: Asterisk cannot be asked; this host's connect is said as the detail."""
    target = Target.of(config, url)
    here = await connect_from_here(target, timeout_s)
    return failed(NAME, f"not checked from Asterisk: AMI is not reachable ({here})",
                  "fix ami first")
