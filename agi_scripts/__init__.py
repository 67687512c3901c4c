"""Per-call entry points: the FastAGI server adapting a live Asterisk channel to ``CallPort``."""

from clinicall.agi_scripts.asterisk_port import AsteriskCallPort
from clinicall.agi_scripts.channel import AgiChannel
from clinicall.agi_scripts.protocol import (
    AgiChannelGone,
    AgiCommandError,
    AgiEnvironment,
    AgiError,
    AgiProtocolError,
    AgiReply,
)
from clinicall.agi_scripts.server import AgiHandler, FastAgiServer, ScriptRouter

__all__ = [
    "AgiChannel",
    "AgiChannelGone",
    "AgiCommandError",
    "AgiEnvironment",
    "AgiError",
    "AgiHandler",
    "AgiProtocolError",
    "AgiReply",
    "AsteriskCallPort",
    "FastAgiServer",
    "ScriptRouter",
]
