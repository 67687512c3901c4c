"""FreeSWITCH Event Socket: the sans-IO parser, the message types, command encoding, the
inbound client and the outbound-socket server (docs/engines/freeswitch.md)."""

from clinicall.controller.freeswitch.esl.client import EslClient, EslEventStream, EslHealth
from clinicall.controller.freeswitch.esl.commands import (
    encode_command,
    encode_sendmsg,
    subscription_command,
)
from clinicall.controller.freeswitch.esl.errors import (
    EslAuthError,
    EslCommandError,
    EslError,
    EslHungUp,
    EslLinkLost,
    EslNotConnected,
    EslRejected,
)
from clinicall.controller.freeswitch.esl.message import EslEvent, EslMessage
from clinicall.controller.freeswitch.esl.outbound import OutboundServer, OutboundSession
from clinicall.controller.freeswitch.esl.protocol import EslParser

__all__ = [
    "EslAuthError",
    "EslClient",
    "EslCommandError",
    "EslError",
    "EslEvent",
    "EslEventStream",
    "EslHealth",
    "EslHungUp",
    "EslLinkLost",
    "EslMessage",
    "EslNotConnected",
    "EslParser",
    "EslRejected",
    "OutboundServer",
    "OutboundSession",
    "encode_command",
    "encode_sendmsg",
    "subscription_command",
]
