"""Provider trunks on FreeSWITCH: sofia answers an IP-matched trunk's INVITE without a
challenge, into the stock ``public`` context, where the clinic's numbers go on to clinicall.

The stock ``internal`` profile challenges every INVITE (``auth-calls``) except those from an
address its ``apply-inbound-acl`` lists pass (the stock ``domains`` list: registered phones'
networks).  A provider does not answer challenges, so the generator adds an ACL list of
clinicall's own, ``clinicall_trunks``, with each trunk's ``match`` networks (or its ``host``
when that is an address and ``match`` is empty), and a second ``apply-inbound-acl`` naming it
to the profile's settings: sofia lets an INVITE through when any of its inbound lists passes
it, and sends it to the profile's context (``public``).  With no IP-matched trunk the list is
empty (``default="deny"``) and changes nothing.

A trunk with credentials is a sofia gateway of the same profile (the calls the clinic
places through it answer the provider's challenge); a registering one (``registration:
true``) registers with ``host`` as ``username``, with the trunk's ``contact_user`` (by default the
first clinic number without '+') as the user of its Contact (``extension-in-contact``), so
the provider calls the clinic at that user; such a call arrives in ``public`` with that
number as its destination, where the clinic's numbers go on to clinicall.
"""

from __future__ import annotations

import ipaddress

from clinicall.freeswitch_config.event_socket import cidr
from clinicall.freeswitch_config.xmlfile import element, fragment, param, raw, value
from clinicall.settings.models import ClinicConfig, Trunk

ACL_NAME = "clinicall_trunks"


def trunk_networks(trunk: Trunk) -> list[str]:
    """The networks a trunk's INVITEs come from: ``match``, else ``host`` if an address."""
    if trunk.match:
        return [cidr(net) for net in trunk.match]
    host = trunk.host
    if host.startswith("["):  # [v6]:port
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:  # v4 or name, with a port
        host = host.split(":", 1)[0]
    try:
        return [cidr(str(ipaddress.ip_address(host)))]
    except ValueError:  # a host name: sofia's ACLs hold addresses, so it needs ``match``
        return []


def acl(config: ClinicConfig) -> str:
    lines = [f"  <list name={raw(ACL_NAME)} default=\"deny\">"]
    for trunk in config.trunks:
        lines += [element("node", [("type", raw("allow")), ("cidr", value(net))], indent=4)
                  for net in trunk_networks(trunk)]
    lines.append("  </list>")
    return fragment(lines, note="the provider trunks' addresses: their calls need no login")


def gateways(config: ClinicConfig) -> str:
    """The trunks with credentials as sofia gateways (inside the profile's ``<gateways>``):
    a registering one registers; either kind answers the provider's challenge to the calls
    the clinic places through it (docs/outbound.md)."""
    lines: list[str] = []
    for trunk in config.trunks:
        if not (trunk.username and trunk.password):
            continue
        contact = trunk.contact_user or config.numbers[0].number.removeprefix("+")
        register = "true" if trunk.registration else "false"
        lines.append(f"    <gateway name={value(trunk.id)}>")
        lines += [param(name, value(text), indent=6) for name, text in (
            ("proxy", trunk.host), ("realm", trunk.host), ("username", trunk.username),
            ("password", trunk.password), ("register", register), ("extension", contact),
            ("extension-in-contact", "true"), ("context", "public"),
            ("expire-seconds", "3600"))]  # fmt: skip
        lines.append("    </gateway>")
    return fragment(lines, note="the provider trunks with credentials: sofia gateways")


def profile_settings() -> str:
    lines = [param("apply-inbound-acl", raw(ACL_NAME), indent=4)]
    return fragment(lines, note="the internal profile also lets the trunks' calls in")
