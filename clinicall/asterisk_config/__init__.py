"""The Asterisk config generated from the clinic config alone, so the two never drift.

:func:`render_asterisk_config` returns file name → text; ``clinicall asterisk-config`` writes
them.  One module per file family: :mod:`.dialplan`, :mod:`.queues`, :mod:`.manager`,
:mod:`.pjsip`, :mod:`.accounting`, :mod:`.modules`, :mod:`.simulation`.
"""

from __future__ import annotations

from clinicall.asterisk_config import (
    accounting,
    dialplan,
    manager,
    modules,
    pjsip,
    queues,
    quiet,
)
from clinicall.asterisk_config.conffile import document, section
from clinicall.settings.models import ClinicConfig

__all__ = ["render_asterisk_config"]


def render_asterisk_config(config: ClinicConfig, *, simulated: bool = False,
                           agi_url: str | None = None, bind: str = "127.0.0.1",
                           sip_bind: str | None = None) -> dict[str, str]:
    """Every ``.conf`` file the controller needs, by file name.

    ``simulated``: queue members are Local channels into ``clinicall-sim-operators`` and the
    simulated patient context is added (demo, tests).  ``agi_url`` overrides the IVR's
    FastAGI URL (default from ``asterisk:`` in the config).  ``bind`` is the address AMI
    listens on; SIP listens on ``sip_bind`` (default: ``bind``).
    """
    return {
        "manager.conf": manager.render(config, bind=bind),
        "extensions.conf": dialplan.render(config, agi=agi_url, simulated=simulated),
        "queues.conf": queues.render(config, simulated=simulated),
        "pjsip.conf": pjsip.render(config, bind=sip_bind or bind),
        "logger.conf": accounting.logger(),
        "cdr.conf": accounting.cdr(),
        "cdr_manager.conf": accounting.cdr_manager(),
        "cel.conf": accounting.cel(),
        "modules.conf": modules.render(),
        "musiconhold.conf": document(section("default", [("mode", "files"),
                                                         ("directory", "moh")])),
        **quiet.render(),
    }
