"""A SIP provider that takes the calls the clinic places, for the outbound-route tests: a
user agent server on UDP at a loopback address, as a provider's edge is to a PBX's trunk.

Each dialled number (the Request-URI's user) behaves as the test says: ``answer`` (the
default: 180, then 200 with an SDP answer in a codec the offer has; the call lasts until the
PBX sends BYE), ``busy`` (486) or ``noanswer`` (180, until the PBX cancels).  An offer with
no G.711 is refused (488), as a provider refuses codecs it does not take.  With
``credentials`` every INVITE is challenged first (401, digest).  Every INVITE is
kept as a :class:`PlacedCall`: the number as dialled, the caller id the PBX presented (From's
user), and how the call ended, so a test asserts what reached the provider.

Why not SIPp, as the patients are: a SIPp server scenario answers every call alike, and the
tests need one number busy and another answered in the same run, and a digest challenge.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from typing import Literal, cast

import pytest

from .registrar import MAX_DATAGRAM, Request, answers_challenge, challenge, response

Behaviour = Literal["answer", "busy", "noanswer"]
_USER = re.compile(r"sip:([^@;>]+)@")
#: Offer payload types a provider answers with: G.711 A-law, then µ-law.
_G711 = {"8": "PCMA", "0": "PCMU"}


@dataclass
class PlacedCall:
    """One call that reached the provider."""

    dialled: str
    caller_id: str
    #: The user of P-Asserted-Identity, where a trunk with an account puts the caller id.
    asserted_id: str
    #: "answered" once the 200 was acknowledged, then "ended" on BYE; "cancelled" or "busy".
    state: str = "ringing"
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class _Sink(asyncio.DatagramProtocol):
    """Where the PBX's RTP goes: read and dropped (a closed port would draw ICMP errors)."""


@dataclass
class Provider(asyncio.DatagramProtocol):
    host: str
    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    #: (user, password): every INVITE is challenged (401) until it answers with these, as a
    #: provider that authenticates its customers' calls does.
    credentials: tuple[str, str] | None = None
    calls: dict[str, PlacedCall] = field(default_factory=dict)  # by Call-ID
    arrived: asyncio.Queue[PlacedCall] = field(default_factory=asyncio.Queue)
    _invites: dict[str, Request] = field(default_factory=dict)
    _tag: str = field(default_factory=lambda: secrets.token_hex(6))
    _port: int = 0
    _media_port: int = 0
    _transports: list[asyncio.BaseTransport] = field(default_factory=list)

    async def listen(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self,
                                                           local_addr=(self.host, port))
        media, _ = await loop.create_datagram_endpoint(_Sink, local_addr=(self.host, 0))
        self._transports += [transport, media]
        self._port = port
        self._media_port = media.get_extra_info("sockname")[1]

    @property
    def port(self) -> int:
        return self._port

    def close(self) -> None:
        for transport in self._transports:
            transport.close()

    async def next_call(self, limit_s: float) -> PlacedCall:
        """The next INVITE that reaches the provider, waiting up to ``limit_s``."""
        try:
            return await asyncio.wait_for(self.arrived.get(), limit_s)
        except TimeoutError:
            pytest.fail(f"no call reached the provider in {limit_s:g} s", pytrace=False)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        data = data[:MAX_DATAGRAM]
        request = Request.parse(data)
        if request is None:
            return  # a response (to nothing we sent) or not SIP
        call_id = request.header("call-id", "i")
        call = self.calls.get(call_id)
        if request.method == "INVITE":
            if self.credentials is not None and not answers_challenge(
                    request, "authorization", username=self.credentials[0],
                    password=self.credentials[1], nonce=self._tag):  # fmt: skip
                self._send(response(request, "401 Unauthorized", challenge(self._tag),
                                    to_tag=self._tag), addr)  # fmt: skip
                return
            if call is None:  # not a retransmission
                call = PlacedCall(dialled=_user(request.uri),
                                  caller_id=_user(request.header("from", "f")),
                                  asserted_id=_user(request.header("p-asserted-identity")))
                self.calls[call_id] = call
                self._invites[call_id] = request
                self.arrived.put_nowait(call)
            self._answer_invite(request, call, data, addr)
        elif request.method == "ACK":
            if call is not None and call.state == "ok":
                call.state = "answered"
        elif request.method == "BYE":
            self._send(response(request, "200 OK", to_tag=self._tag), addr)
            if call is not None:
                call.state = "ended"
                call.ended.set()
        elif request.method == "CANCEL":
            self._send(response(request, "200 OK", to_tag=self._tag), addr)
            invite = self._invites.get(call_id)
            if call is not None and invite is not None and call.state == "ringing":
                self._send(response(invite, "487 Request Terminated", to_tag=self._tag), addr)
                call.state = "cancelled"
                call.ended.set()
        else:
            self._send(response(request, "200 OK", to_tag=self._tag), addr)  # OPTIONS

    def _answer_invite(self, request: Request, call: PlacedCall, data: bytes,
                       addr: tuple[str | object, int]) -> None:  # fmt: skip
        behaviour = self.behaviour.get(call.dialled, "answer")
        if behaviour == "busy":
            self._send(response(request, "486 Busy Here", to_tag=self._tag), addr)
            call.state = "busy"
            call.ended.set()
            return
        contact = f"Contact: <sip:{call.dialled}@{self.host}:{self._port}>"
        self._send(response(request, "180 Ringing", contact, to_tag=self._tag), addr)
        if behaviour == "answer":
            offer = data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")
            media = next((line for line in offer.splitlines() if line.startswith("m=audio")),
                         "")  # fmt: skip
            pt = next((p for p in media.split()[3:] if p in _G711), None)
            if pt is None:  # as a provider does with an offer it cannot take
                self._send(response(request, "488 Not Acceptable Here", to_tag=self._tag), addr)
                call.state = "refused: " + media
                call.ended.set()
                return
            self._send(response(request, "200 OK", contact, "Content-Type: application/sdp",
                                self._sdp(pt), to_tag=self._tag), addr)
            if call.state == "ringing":
                call.state = "ok"

    def _sdp(self, pt: str) -> str:
        return "\r\n".join([
            "v=0", f"o=provider 1 1 IN IP4 {self.host}", "s=-", f"c=IN IP4 {self.host}",
            "t=0 0", f"m=audio {self._media_port} RTP/AVP {pt}",
            f"a=rtpmap:{pt} {_G711[pt]}/8000", "a=sendrecv", ""])

    def _send(self, payload: bytes, addr: tuple[str | object, int]) -> None:
        transport = cast(asyncio.DatagramTransport, self._transports[0])
        transport.sendto(payload, addr)


def _user(uri: str) -> str:
    match = _USER.search(uri)
    return match[1] if match else ""
