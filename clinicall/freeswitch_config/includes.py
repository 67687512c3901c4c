"""The lines an administrator adds to FreeSWITCH's own config files to bring clinicall's
files in, and where each goes.

Each line is an ``X-PRE-PROCESS include`` placed next to an anchor: a piece of text that the
stock FreeSWITCH 1.10 file holds exactly once (``<queues>`` in callcenter.conf.xml, the
``default/*.xml`` include in directory/default.xml, ...).  ``clinicall freeswitch-config``
prints them; the test sandbox inserts the same lines into a stock config, so what the tests
load is what the administrator installs.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How FreeSWITCH names its conf dir at run time; the pre-processor expands it in includes.
CONF_DIR = "$${conf_dir}"
DEFAULT_INCLUDE_DIR = f"{CONF_DIR}/clinicall"


@dataclass(frozen=True, slots=True)
class Include:
    """``line`` goes into ``file`` (relative to FreeSWITCH's conf dir), on the line after
    ``anchor`` when ``after`` is true, else on the line before it."""

    file: str
    anchor: str
    after: bool
    line: str
    where: str  # the same place, said for a person

    def describe(self) -> str:
        return f"{self.file}, {self.where}:\n    {self.line}"


def include_line(include_dir: str, filename: str) -> str:
    return f'<X-PRE-PROCESS cmd="include" data="{include_dir}/{filename}"/>'


# The generated files, by the place they are included.
PUBLIC_NUMBERS = "public_numbers.xml"
CONTEXT = "dialplan_context.xml"
QUEUES = "callcenter_queues.xml"
AGENTS = "callcenter_agents.xml"
TIERS = "callcenter_tiers.xml"
EVENT_SOCKET = "event_socket_settings.xml"
ACL = "acl_lists.xml"
CDR_TEMPLATE = "cdr_csv_template.xml"
OPERATORS = "directory_operators.xml"
TRUNK_ACL = "acl_trunks.xml"
SIP_PROFILE = "sip_profile_internal.xml"
SIP_GATEWAYS = "sip_profile_gateways.xml"


def includes(include_dir: str = DEFAULT_INCLUDE_DIR) -> list[Include]:
    """Every include line, for generated files kept in ``include_dir`` (as FreeSWITCH sees it:
    ``$${conf_dir}/clinicall`` when they are in a ``clinicall`` folder of its conf dir)."""

    def inc(file: str, anchor: str, after: bool, name: str, where: str) -> Include:
        return Include(file, anchor, after, include_line(include_dir, name), where)

    return [
        inc("dialplan/public.xml", '<context name="public">', True, PUBLIC_NUMBERS,
            'first thing inside <context name="public">'),
        inc("dialplan/public.xml", "</context>", True, CONTEXT,
            "after </context> (a context of its own, beside public)"),
        inc("autoload_configs/callcenter.conf.xml", "<queues>", True, QUEUES,
            "inside <queues>"),
        inc("autoload_configs/callcenter.conf.xml", "<agents>", True, AGENTS,
            "inside <agents>"),
        inc("autoload_configs/callcenter.conf.xml", "<tiers>", True, TIERS, "inside <tiers>"),
        inc("autoload_configs/event_socket.conf.xml", "</settings>", False, EVENT_SOCKET,
            "last thing inside <settings> (the last value of a setting wins)"),
        inc("autoload_configs/acl.conf.xml", "<network-lists>", True, ACL,
            "inside <network-lists>"),
        inc("autoload_configs/cdr_csv.conf.xml", "<templates>", True, CDR_TEMPLATE,
            "inside <templates>"),
        inc("directory/default.xml", '<X-PRE-PROCESS cmd="include" data="default/*.xml"/>',
            True, OPERATORS, "inside the default group's <users>, after its default/*.xml"),
        inc("autoload_configs/acl.conf.xml", "<network-lists>", True, TRUNK_ACL,
            "inside <network-lists>"),
        inc("sip_profiles/internal.xml", "<settings>", True, SIP_PROFILE,
            "first thing inside <settings>"),
        inc("sip_profiles/internal.xml", "<gateways>", True, SIP_GATEWAYS,
            "inside <gateways>"),
    ]
