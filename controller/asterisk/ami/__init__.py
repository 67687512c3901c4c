"""Asterisk Manager Interface: sans-IO protocol, message type and the asyncio client."""

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser, encode_action

__all__ = ["AMIParser", "Message", "encode_action"]
