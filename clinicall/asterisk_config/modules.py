"""The Asterisk modules clinicall needs loaded: listed for the administrator, never forced.

The PBX is the clinic's: its ``modules.conf`` (autoload on Debian) decides what loads, and
voicemail, conferences or parking of theirs must keep working.  ``clinicall asterisk-config``
prints this list and the integration tests check that each one is loaded in the sandbox, so a
name here is a real module.
"""

from __future__ import annotations

NEEDED: tuple[tuple[str, str], ...] = (
    ("res_agi", "the IVR over FastAGI"),
    ("app_queue", "the queues, QueueLog"),
    ("app_mixmonitor", "call recordings"),
    ("app_dial", "operators calling each other"),
    ("app_playback", "prompts"),
    ("pbx_config", "extensions.conf"),
    ("chan_pjsip", "SIP"),
    ("res_pjsip", "SIP"),
    ("res_pjsip_session", "SIP calls"),
    ("res_pjsip_authenticator_digest", "operators' phones log in"),
    ("res_pjsip_outbound_authenticator_digest", "a registering trunk logs in"),
    ("res_pjsip_outbound_registration", "a registering trunk"),
    ("res_pjsip_endpoint_identifier_ip", "an IP-matched trunk"),
    ("res_pjsip_endpoint_identifier_user", "operators' phones"),
    ("res_pjsip_registrar", "operators' phones register"),
    ("res_rtp_asterisk", "media and RFC 4733 keys"),
    ("res_musiconhold", "music while waiting"),
    ("res_timing_timerfd", "music on hold timing"),
    ("bridge_simple", "patient and operator talk"),
    ("bridge_native_rtp", "patient and operator talk"),
    ("func_channel", "CHANNEL(linkedid)"),
    ("func_callerid", "CALLERID(num)"),
    ("func_logic", "IF() in the dialplan"),
    ("cdr_csv", "the CDR file read after an outage"),
    ("cdr_manager", "CDRs over AMI"),
    ("cel_manager", "CEL over AMI"),
    ("codec_alaw", "G.711 a-law"),
    ("codec_ulaw", "G.711 mu-law"),
    ("format_wav", "prompts and recordings"),
)


def names() -> list[str]:
    return [name for name, _ in NEEDED]
