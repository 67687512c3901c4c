"""``clinicall_rtp.conf``: the UDP port range the media uses (the ports to open in the firewall).

Extends the administrator's ``rtp.conf`` ``[general]``; the range comes from ``sip.rtp_ports``.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section
from clinicall.settings.models import ClinicConfig


def render(config: ClinicConfig) -> str:
    ports = config.sip.rtp_ports
    return document(section("general", [("rtpstart", ports.start), ("rtpend", ports.end)],
                            extend=True, comment="open these UDP ports in the firewall"))
