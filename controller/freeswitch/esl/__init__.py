"""FreeSWITCH Event Socket: the sans-IO parser, the message types, command encoding, the
inbound client and the outbound-socket server (docs/engines/freeswitch.md)."""

from clinicall.controller.freeswitch.esl.commands import (
    encode_command,
    encode_sendmsg,
    subscription_command,
)
from clinicall.controller.freeswitch.esl.message import EslEvent, EslMessage
from clinicall.controller.freeswitch.esl.protocol import EslParser

__all__ = [
    "EslEvent",
    "EslMessage",
    "EslParser",
    "encode_command",
    "encode_sendmsg",
    "subscription_command",
]
