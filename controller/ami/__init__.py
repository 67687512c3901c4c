"""Asterisk Manager Interface: sans-IO protocol, message type and the asyncio client."""

from controller.ami.message import Message
from controller.ami.protocol import AMIParser, encode_action

__all__ = ["AMIParser", "Message", "encode_action"]
