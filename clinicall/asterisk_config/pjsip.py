"""``clinicall_pjsip.conf``: clinicall's transport (unless the administrator names theirs), per
operator an endpoint with its auth and AOR, and per trunk an endpoint into the inbound context.

Endpoint, auth, AOR, identify and registration share the operator's or trunk's id as section
name (sections of different types may), so ``PJSIP/<id>`` is both the queue member and the
phone's SIP user name.  ``clinicall_pjsip_global.conf`` holds the ``type=global`` section for a
``pjsip.conf`` that has none: Asterisk keeps one global object, so a second would silently
replace the administrator's.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section
from clinicall.asterisk_config.dialplan import INBOUND, OPERATORS
from clinicall.settings.models import ClinicConfig, Operator, Trunk

TRANSPORT = "clinicall-udp"
#: Phones are found by their user name first, then a trunk by its address: so phones behind
#: the provider's address (or the same NAT) are still phones, and a trunk's INVITE, whose From
#: user is a caller's number, is the trunk's.
IDENTIFY_ORDER = "username,ip,anonymous"
_MEDIA = [("direct_media", "no"), ("rtp_symmetric", "yes"), ("force_rport", "yes"),
          ("rewrite_contact", "yes"), ("dtmf_mode", "rfc4733")]


def transport_name(config: ClinicConfig) -> str:
    return config.sip.transport or TRANSPORT


def render(config: ClinicConfig, *, bind: str) -> str:
    parts = [] if config.sip.transport else [_transport(config, bind)]
    parts += [_operator(op) for op in config.operators]
    parts += [_trunk(config, trunk) for trunk in config.trunks]
    return document(*parts)


def render_global() -> str:
    return document(section("global", [("type", "global"),
                                       ("endpoint_identifier_order", IDENTIFY_ORDER)],
                            comment="only for a pjsip.conf without a type=global section"))


def _transport(config: ClinicConfig, bind: str) -> str:
    sip = config.sip
    settings: list[tuple[str, object]] = [
        ("type", "transport"), ("protocol", "udp"),
        ("bind", f"{bind}:{config.asterisk_engine().sip_port}"),
    ]
    if sip.external_address:
        settings += [("external_media_address", sip.external_address),
                     ("external_signaling_address", sip.external_address)]
    settings += [("local_net", net) for net in sip.local_nets]
    return section(TRANSPORT, settings)


def _operator(op: Operator) -> str:
    display = op.name.replace('"', "'")
    endpoint = section(op.id, [
        ("type", "endpoint"), ("context", OPERATORS), ("disallow", "all"),
        ("allow", "alaw,ulaw,g722"), ("auth", op.id), ("aors", op.id),
        ("callerid", f'"{display}" <{op.id}>'), *_MEDIA,
    ], comment=f"operator {op.id}")
    auth = section(op.id, [("type", "auth"), ("auth_type", "userpass"), ("username", op.id),
                           ("password", op.secret)])
    aor = section(op.id, [("type", "aor"), ("max_contacts", 1), ("remove_existing", "yes"),
                          ("qualify_frequency", 30)])
    return "\n".join((endpoint, auth, aor))


def _trunk(config: ClinicConfig, trunk: Trunk) -> str:
    """The provider's endpoint into the inbound context, found by its address (``identify``)
    and, when it registers, by the ``line`` its registration's contact carries."""
    kinds = [k for k, on in (("IP-matched", bool(trunk.match)),
                             ("registering", trunk.registration)) if on]
    settings: list[tuple[str, object]] = [
        ("type", "endpoint"), ("context", INBOUND), ("transport", transport_name(config)),
        ("disallow", "all"), ("allow", ",".join(trunk.codecs)), ("aors", trunk.id), *_MEDIA,
    ]
    if trunk.username:
        # From carries the account, so the caller id the clinic's calls present
        # (outbound.caller_id) goes in P-Asserted-Identity (docs/outbound.md)
        settings += [("outbound_auth", trunk.id), ("from_user", trunk.username),
                     ("send_pai", "yes")]
    parts = [section(trunk.id, settings,
                     comment=f"trunk {trunk.id} ({' and '.join(kinds) or 'by host'})")]
    parts.append(section(trunk.id, [("type", "aor"), ("contact", f"sip:{trunk.host}"),
                                    ("qualify_frequency", 60)]))
    if trunk.username and trunk.password:
        parts.append(section(trunk.id, [("type", "auth"), ("auth_type", "userpass"),
                                        ("username", trunk.username),
                                        ("password", trunk.password)]))
    matches = trunk.match or [trunk.host.rsplit(":", 1)[0] if trunk.host.count(":") == 1
                              else trunk.host]
    parts.append(section(trunk.id, [("type", "identify"), ("endpoint", trunk.id),
                                    *(("match", m) for m in matches)]))
    if trunk.registration:
        contact = trunk.contact_user or config.numbers[0].number.removeprefix("+")
        parts.append(section(trunk.id, [
            ("type", "registration"), ("transport", transport_name(config)),
            ("outbound_auth", trunk.id), ("server_uri", f"sip:{trunk.host}"),
            ("client_uri", f"sip:{trunk.username}@{trunk.host}"), ("contact_user", contact),
            ("retry_interval", 60), ("forbidden_retry_interval", 600), ("expiration", 3600),
            ("line", "yes"), ("endpoint", trunk.id),
        ]))
    return "\n".join(parts)
