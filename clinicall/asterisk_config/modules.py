"""``modules.conf``: autoload, minus what a clinic PBX never uses (boots faster, logs less).

Kept on purpose: res_agi, app_queue, app_mixmonitor, chan_pjsip and res_pjsip*, core Local
channels, the formats (gsm, wav, ogg, sln) and codecs, app_senddtmf, app_read, app_playback,
func_*, pbx_config, res_musiconhold, cdr_manager, cdr_csv and cel_manager.  Only leaf
modules are listed, so nothing kept depends on one that is left out.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document

NOLOAD = (
    # other channel technologies
    "chan_iax2", "chan_unistim", "chan_motif", "chan_console", "chan_audiosocket",
    "chan_websocket", "chan_rtp", "res_xmpp",
    # voicemail, conferencing and office features
    "app_voicemail", "app_voicemail_odbc", "app_minivm", "app_directory", "app_followme",
    "app_confbridge", "app_sla", "app_page", "app_dictate", "app_festival", "app_jack",
    "app_sms", "app_adsiprog", "app_getcpeid", "app_alarmreceiver", "app_zapateller",
    "app_morsecode", "app_privacy", "app_mp3", "app_audiosocket", "res_audiosocket",
    "res_pjsip_send_to_voicemail", "res_mwi_devstate", "res_fax", "res_fax_spandsp",
    "res_phoneprov", "res_pjsip_phoneprov_provider", "res_smdi", "res_parking",
    # ARI / Stasis applications (clinicall uses AMI and FastAGI)
    "app_stasis", "app_stasis_broadcast", "res_stasis_answer", "res_stasis_broadcast",
    "res_stasis_device_state", "res_stasis_playback", "res_stasis_recording",
    "res_stasis_snoop", "res_stasis_test", "res_ari_applications", "res_ari_asterisk",
    "res_ari_bridges", "res_ari_channels", "res_ari_device_states", "res_ari_endpoints",
    "res_ari_events", "res_ari_playbacks", "res_ari_recordings", "res_ari_sounds", "res_ari",
    "res_ari_model",
    # other dialplan languages and realtime back ends
    "pbx_lua", "pbx_ael", "pbx_dundi", "pbx_realtime", "res_config_ldap", "res_config_odbc",
    "res_config_pgsql", "res_config_sqlite3", "res_config_curl",
    # CDR / CEL back ends other than CSV and AMI
    "cdr_adaptive_odbc", "cdr_odbc", "cdr_pgsql", "cdr_radius", "cdr_sqlite3_custom",
    "cdr_tds", "cdr_custom", "cel_custom", "cel_odbc", "cel_pgsql", "cel_radius",
    "cel_sqlite3_custom", "cel_tds", "func_odbc", "res_odbc_transaction", "res_odbc",
    # monitoring and cluster integrations
    "res_snmp", "res_hep_pjsip", "res_hep_rtcp", "res_hep", "res_prometheus", "res_statsd",
    "res_calendar_caldav", "res_calendar_ews", "res_calendar_exchange",
    "res_calendar_icalendar", "res_calendar", "res_speech_aeap", "res_aeap",
    # features a clinic line does not use (each would also want a config file of its own)
    "res_pjsip_config_wizard", "res_pjsip_stir_shaken", "res_stir_shaken",
    "res_websocket_client", "res_resolver_unbound", "res_pjsip_geolocation",
    "res_geolocation", "app_agent_pool", "res_pjsip_notify", "res_http_media_cache",
    "res_clialiases", "res_stun_monitor", "app_amd", "res_adsi",
)


def render() -> str:
    lines = ["[modules]", "autoload = yes"]
    lines += [f"noload => {name}.so" for name in NOLOAD]
    return document("\n".join(lines) + "\n")
