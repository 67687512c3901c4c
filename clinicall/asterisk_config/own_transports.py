"""The transports an administrator's own ``pjsip.conf`` already defines.

clinicall generates a transport of its own unless ``sip.transport`` names one of theirs; two
UDP transports on one address and port fail to bind, and Asterisk then serves no SIP at all.
``clinicall asterisk-config`` reads the ``pjsip.conf`` beside the files it writes and, when it
finds a transport there while generating its own, says which name to give ``sip.transport``.
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
_TYPE_TRANSPORT = re.compile(r"^\s*type\s*=>?\s*transport\s*(;.*)?$")


def transports(pjsip_conf: str) -> list[str]:
    """The names of the sections that say ``type = transport``, in file order."""
    found: list[str] = []
    current = ""
    for line in pjsip_conf.splitlines():
        section = _SECTION.match(line)
        if section:
            current = section.group(1).strip()
        elif current and _TYPE_TRANSPORT.match(line) and current not in found:
            found.append(current)
    return found
