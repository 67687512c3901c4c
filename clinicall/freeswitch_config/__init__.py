"""The FreeSWITCH config generated from the clinic config alone, so the two never drift.

:func:`render_freeswitch_config` returns the files (name → text, all of them clinicall's own,
each marked by :data:`~.xmlfile.HEADER`) and the include lines an administrator adds to
FreeSWITCH's stock files to bring them in; ``clinicall freeswitch-config`` writes them by the
same rules as ``asterisk-config`` (:mod:`clinicall.generated_files`) and prints the lines.  One
module per concern: :mod:`.dialplan`, :mod:`.callcenter`, :mod:`.event_socket`,
:mod:`.accounting`, :mod:`.directory`, :mod:`.trunks`; :mod:`.includes` says where each file goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicall.freeswitch_config import (
    accounting,
    callcenter,
    dialplan,
    directory,
    event_socket,
    trunks,
)
from clinicall.freeswitch_config import includes as inc
from clinicall.freeswitch_config.includes import DEFAULT_INCLUDE_DIR, Include
from clinicall.settings.models import ClinicConfig, EngineMismatch, FreeswitchEngine

__all__ = ["GeneratedConfig", "Include", "render_freeswitch_config"]


@dataclass(frozen=True)
class GeneratedConfig:
    files: dict[str, str]
    includes: list[Include]


def render_freeswitch_config(config: ClinicConfig, *,
                             include_dir: str = DEFAULT_INCLUDE_DIR) -> GeneratedConfig:
    """Every generated file and the include lines that load them from ``include_dir`` (the
    files' folder as FreeSWITCH sees it).  Raises EngineMismatch for an Asterisk clinic."""
    if not isinstance(config.engine, FreeswitchEngine):
        raise EngineMismatch("freeswitch", config.engine.type)
    files = {
        inc.PUBLIC_NUMBERS: dialplan.public_numbers(config),
        inc.CONTEXT: dialplan.context(config),
        inc.QUEUES: callcenter.queues(config),
        inc.AGENTS: callcenter.agents(config),
        inc.TIERS: callcenter.tiers(config),
        inc.EVENT_SOCKET: event_socket.settings(config),
        inc.ACL: event_socket.acl(config),
        inc.CDR_TEMPLATE: accounting.cdr_template(),
        inc.OPERATORS: directory.operators(config),
        inc.TRUNK_ACL: trunks.acl(config),
        inc.SIP_PROFILE: trunks.profile_settings(),
        inc.SIP_GATEWAYS: trunks.gateways(config),
    }
    return GeneratedConfig(files, inc.includes(include_dir))
