"""``pjsip.conf``: one UDP transport and, per operator, an endpoint, its auth and its AOR.

Endpoint, auth and AOR share the operator id as section name (sections of different types
may), so ``PJSIP/<id>`` is both the queue member and the phone's SIP user name.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section
from clinicall.asterisk_config.dialplan import OPERATORS
from clinicall.settings.models import ClinicConfig, Operator


def render(config: ClinicConfig, *, bind: str) -> str:
    sip_port = config.asterisk_engine().sip_port
    transport = section("transport-udp", [
        ("type", "transport"), ("protocol", "udp"), ("bind", f"{bind}:{sip_port}"),
    ])
    return document(transport, *(_operator(op) for op in config.operators))


def _operator(op: Operator) -> str:
    display = op.name.replace('"', "'")
    endpoint = section(op.id, [
        ("type", "endpoint"), ("context", OPERATORS), ("disallow", "all"),
        ("allow", "alaw,ulaw,g722"), ("auth", op.id), ("aors", op.id),
        ("callerid", f'"{display}" <{op.id}>'), ("dtmf_mode", "rfc4733"),
        ("direct_media", "no"), ("rtp_symmetric", "yes"), ("force_rport", "yes"),
        ("rewrite_contact", "yes"),
    ], comment=f"operator {op.id}")
    auth = section(op.id, [("type", "auth"), ("auth_type", "userpass"), ("username", op.id),
                           ("password", op.secret)])
    aor = section(op.id, [("type", "aor"), ("max_contacts", 1), ("remove_existing", "yes"),
                          ("qualify_frequency", 30)])
    return "\n".join((endpoint, auth, aor))
