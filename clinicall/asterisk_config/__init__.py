"""The Asterisk config generated from the clinic config alone, so the two never drift.

:func:`render_asterisk_config` returns file name → text, only files of clinicall's own
(``clinicall_*.conf``); ``clinicall asterisk-config`` writes them beside the administrator's
files, which include them (:mod:`.includes`).  One module per file family: :mod:`.dialplan`,
:mod:`.queues`, :mod:`.manager`, :mod:`.pjsip`, :mod:`.rtp`, :mod:`.accounting`,
:mod:`.simulation`; :mod:`.modules` lists the modules it needs.
"""

from __future__ import annotations

from clinicall.asterisk_config import (
    accounting,
    dialplan,
    manager,
    pjsip,
    queues,
    rtp,
)
from clinicall.asterisk_config.includes import fresh_install
from clinicall.settings.models import ClinicConfig

__all__ = ["installed_asterisk_config", "render_asterisk_config"]


def render_asterisk_config(config: ClinicConfig, *, simulated: bool = False,
                           agi_url: str | None = None, bind: str = "127.0.0.1",
                           sip_bind: str | None = None) -> dict[str, str]:
    """Every ``clinicall_*.conf`` file the controller needs, by file name.

    ``simulated``: queue members are Local channels into ``clinicall-sim-operators`` and the
    simulated patient context is added (demo, tests).  ``agi_url`` overrides the IVR's
    FastAGI URL (default from ``asterisk:`` in the config).  ``bind`` is the address AMI
    listens on; SIP listens on ``sip_bind``, else the config's ``sip.bind``, else ``bind``.
    """
    return {
        "clinicall_manager.conf": manager.render(config, bind=bind, simulated=simulated),
        "clinicall_extensions.conf": dialplan.render(config, agi=agi_url, simulated=simulated),
        "clinicall_queues.conf": queues.render(config, simulated=simulated),
        "clinicall_pjsip.conf": pjsip.render(config, bind=sip_bind or config.sip.bind or bind),
        "clinicall_pjsip_global.conf": pjsip.render_global(),
        "clinicall_rtp.conf": rtp.render(config),
        "clinicall_logger.conf": accounting.logger(),
        "clinicall_cdr.conf": accounting.cdr(),
        "clinicall_cdr_manager.conf": accounting.cdr_manager(),
        "clinicall_cel.conf": accounting.cel(),
    }


def installed_asterisk_config(config: ClinicConfig, *, simulated: bool = False,
                              agi_url: str | None = None, bind: str = "127.0.0.1",
                              sip_bind: str | None = None) -> dict[str, str]:
    """What ``/etc/asterisk`` holds on a fresh install after ``clinicall asterisk-config`` and
    the printed include lines: the sandbox boots exactly this (options as above)."""
    return fresh_install(render_asterisk_config(config, simulated=simulated, agi_url=agi_url,
                                                bind=bind, sip_bind=sip_bind))
