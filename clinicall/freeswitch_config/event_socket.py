"""The event socket the controller connects to: on the configured address and port, with the
configured password, and only from the controller's addresses (an ACL of clinicall's own).

Both are fragments: the settings go last inside the stock ``event_socket.conf.xml``
``<settings>`` (mod_event_socket takes the last value of each setting, so these win over the
stock ``::``/8021/ClueCon), the ACL list inside ``acl.conf.xml``'s ``<network-lists>``.
The config refuses FreeSWITCH's well-known default password (clinicall/settings/models.py).
"""

from __future__ import annotations

from clinicall.freeswitch_config.xmlfile import element, fragment, param, raw, value
from clinicall.settings.models import ClinicConfig, FreeswitchEngine

ACL_NAME = "clinicall_esl"


def _engine(config: ClinicConfig) -> FreeswitchEngine:
    if not isinstance(config.engine, FreeswitchEngine):
        raise TypeError("the event socket config needs a FreeSWITCH engine config")
    return config.engine


def settings(config: ClinicConfig) -> str:
    engine = _engine(config)
    lines = [
        param("listen-ip", value(engine.esl_host), indent=2),
        param("listen-port", value(engine.esl_port), indent=2),
        param("password", value(engine.esl_password), indent=2),
        param("apply-inbound-acl", raw(ACL_NAME), indent=2),
    ]
    return fragment(lines, note="event socket settings for the clinicall controller")


def acl(config: ClinicConfig) -> str:
    engine = _engine(config)
    lines = [f"  <list name={raw(ACL_NAME)} default=\"deny\">"]
    lines += [element("node", [("type", raw("allow")), ("cidr", value(cidr(net)))], indent=4)
              for net in engine.esl_allow]
    lines.append("  </list>")
    return fragment(lines, note="who may use the event socket: the controller's addresses")


def cidr(network: str) -> str:
    """FreeSWITCH's ACL nodes want a prefix length: ``192.0.2.10`` → ``192.0.2.10/32``."""
    if "/" in network:
        return network
    return f"{network}/128" if ":" in network else f"{network}/32"
