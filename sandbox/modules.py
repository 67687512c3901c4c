"""Default ``modules.conf`` and ``logger.conf`` for a sandbox whose config does not bring its own.

Autoload keeps the sandbox faithful to a stock Asterisk; the noload list drops modules that need
hardware or services absent here (sound cards, databases, LDAP, SNMP, XMPP...) and only add
boot time or warnings.
"""

from __future__ import annotations

NOLOAD: tuple[str, ...] = (
    # need audio hardware, telephony cards or external daemons
    "chan_console",
    "app_jack",
    "app_festival",
    "res_snmp",
    "res_xmpp",
    "chan_motif",
    "res_smdi",
    "res_statsd",
    "res_hep",
    "res_hep_pjsip",
    "res_hep_rtcp",
    # databases and directories that are not configured here
    "res_config_ldap",
    "res_config_pgsql",
    "res_config_odbc",
    "res_odbc",
    "res_odbc_transaction",
    "cdr_pgsql",
    "cel_pgsql",
    "cdr_odbc",
    "cdr_adaptive_odbc",
    "cel_odbc",
    "cdr_tds",
    "cel_tds",
    "cdr_radius",
    "cel_radius",
    "func_odbc",
    "app_voicemail_odbc",
    "res_config_curl",
    "pbx_lua",
    "pbx_ael",
    "pbx_dundi",
    "res_calendar",
    "res_calendar_caldav",
    "res_calendar_ews",
    "res_calendar_exchange",
    "res_calendar_icalendar",
    # network services the clinic does not use
    "chan_iax2",
    "chan_unistim",
    "res_phoneprov",
    "res_pjsip_phoneprov_provider",
    "res_stir_shaken",
    "res_pjsip_stir_shaken",
    "res_prometheus",
    "res_resolver_unbound",
)


def default_modules_conf(noload: tuple[str, ...] = NOLOAD) -> str:
    """``modules.conf`` text: autoload everything except ``noload``."""
    lines = ["[modules]", "autoload = yes"]
    lines += [f"noload => {name}.so" for name in noload]
    return "\n".join(lines) + "\n"


def minimal_modules_conf(load: tuple[str, ...]) -> str:
    """``modules.conf`` text loading only ``load`` (for speed comparisons and tight tests)."""
    lines = ["[modules]", "autoload = no"]
    lines += [f"load => {name}.so" for name in load]
    return "\n".join(lines) + "\n"


DEFAULT_LOGGER_CONF = """[general]
dateformat = %F %T.%3q

[logfiles]
messages.log => notice,warning,error,verbose
console => notice,warning,error
"""
