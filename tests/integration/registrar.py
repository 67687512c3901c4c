"""A SIP provider's registrar for the registering-trunk tests, on UDP at a loopback address.

It does what a provider's registrar does with a PBX that registers to it: answers the PBX's
qualify pings (``OPTIONS``), challenges a ``REGISTER`` (401, RFC 3261 §22 digest, MD5), and
accepts one whose digest answers the challenge with the trunk's user and password.  The
accepted Contact is kept: the provider calls back on it (Asterisk's ``line``, a sofia
gateway's ``gw=``).

Why not SIPp, as the callers are: a SIPp server scenario is one call per Call-ID, and with
``-m 1`` the PBX's first qualify ``OPTIONS`` (auto-answered with ``-aa``) *is* that call, so a
``REGISTER`` arriving after it is dropped and SIPp ignores its own ``-timeout`` while the call
is open.  Asterisk qualifies the trunk's AOR and delays its first REGISTER by a random
``max_random_initial_delay``, so whichever reached SIPp first decided the test.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import cast

import pytest

#: A datagram bigger than this is not a SIP request we answer (RFC 3261 §18.1.1's MTU rule).
MAX_DATAGRAM = 65_535
REALM = "provider.test"
_DIGEST_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_response(*, username: str, password: str, realm: str, nonce: str, method: str,
                    uri: str) -> str:  # fmt: skip
    """RFC 2617's ``response`` without ``qop`` (the challenge offers none)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    return _md5(f"{ha1}:{nonce}:{_md5(f'{method}:{uri}')}")


def answers_challenge(request: Request, header: str, *, username: str, password: str,
                      nonce: str) -> bool:  # fmt: skip
    """Whether ``request``'s ``header`` (``authorization`` or ``proxy-authorization``)
    answers the challenge ``nonce`` of realm REALM with ``username`` and ``password``."""
    value = request.header(header).removeprefix("Digest").strip()
    params = {m[1].lower(): m[2] or m[3] for m in _DIGEST_PARAM.finditer(value)}
    if params.get("username") != username or params.get("nonce") != nonce:
        return False
    expected = digest_response(username=username, password=password,
                               realm=params.get("realm", ""), nonce=nonce,
                               method=request.method, uri=params.get("uri", ""))
    return params.get("realm") == REALM and params.get("response") == expected


def challenge(nonce: str) -> str:
    return f'WWW-Authenticate: Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5'


@dataclass(frozen=True)
class Request:
    """One SIP request as the registrar read it: its method, URI and headers (the first of
    each name, lower-cased, except ``via``, which keeps every hop in order)."""

    method: str
    uri: str
    headers: dict[str, str]
    vias: tuple[str, ...]

    @classmethod
    def parse(cls, data: bytes) -> Request | None:
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", errors="replace")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("SIP/2.0"):
            return None  # a response, or not SIP at all
        headers: dict[str, str] = {}
        vias: list[str] = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            key, value = name.strip().lower(), value.strip()
            if key in ("via", "v"):
                vias.append(value)
            else:
                headers.setdefault(key, value)
        return cls(parts[0], parts[1], headers, tuple(vias))

    def header(self, *names: str) -> str:
        """The first of ``names`` present (a header's full and compact forms)."""
        return next((self.headers[name] for name in names if name in self.headers), "")


@dataclass
class Registrar(asyncio.DatagramProtocol):
    """The provider's registrar for one trunk user.  ``registered`` resolves with the Contact
    of the first REGISTER that answers the challenge and names ``contact_user`` with
    ``contact_tail`` among its parameters; ``seen`` lists every request line, for the message
    of a test that waited in vain."""

    username: str
    password: str
    contact_user: str
    contact_tail: str = ";line="
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    seen: list[str] = field(default_factory=list)
    registered: asyncio.Future[str] = field(init=False)
    _transport: asyncio.DatagramTransport | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.registered = asyncio.get_running_loop().create_future()

    async def listen(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))

    async def accepted(self, limit_s: float) -> str:
        """The Contact it accepted, waiting up to ``limit_s``; else the test fails, naming
        every request the registrar saw."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.registered), limit_s)
        except TimeoutError:
            pytest.fail(f"no registration in {limit_s:g} s; the registrar saw "
                        f"{self.seen or 'nothing'}", pytrace=False)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (3.11's selector datagram transport is not a DatagramTransport subclass)
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        request = Request.parse(data[:MAX_DATAGRAM])
        if request is None:
            return
        self.seen.append(f"{request.method} {request.uri}")
        if request.method == "OPTIONS":
            self._reply(request, addr, "200 OK")
        elif request.method != "REGISTER":
            self._reply(request, addr, "405 Method Not Allowed", "Allow: OPTIONS, REGISTER")
        elif not request.header("authorization"):
            self._reply(request, addr, "401 Unauthorized", challenge(self.nonce))
        elif not answers_challenge(request, "authorization", username=self.username,
                                   password=self.password, nonce=self.nonce):
            self._reply(request, addr, "403 Forbidden")
        else:
            contact = request.header("contact", "m")
            if not re.search(rf"<sip:{re.escape(self.contact_user)}@[^>]*"
                             rf"{re.escape(self.contact_tail)}", contact):
                self._reply(request, addr, "400 Bad Contact")
                return
            self._reply(request, addr, "200 OK", f"Contact: {contact};expires=3600",
                        "Expires: 3600")
            if not self.registered.done():
                self.registered.set_result(contact)

    def _reply(self, request: Request, addr: tuple[str | object, int], status: str,
               *extra: str) -> None:  # fmt: skip
        if self._transport is not None:
            self._transport.sendto(response(request, status, *extra, to_tag=self.nonce), addr)


def response(request: Request, status: str, *extra: str, to_tag: str) -> bytes:
    """A response to ``request`` (its Vias, From, To with ``to_tag`` unless it has one,
    Call-ID and CSeq); ``extra`` headers, then a body when the last of them is one (a line
    starting ``v=``: an SDP, with its Content-Type before it)."""
    to = request.header("to", "t")
    if ";tag=" not in to:
        to += f";tag={to_tag}"
    body = extra[-1] if extra and extra[-1].startswith("v=") else ""
    headers = extra[:-1] if body else extra
    lines = [f"SIP/2.0 {status}", *(f"Via: {via}" for via in request.vias),
             f"From: {request.header('from', 'f')}", f"To: {to}",
             f"Call-ID: {request.header('call-id', 'i')}",
             f"CSeq: {request.header('cseq')}", *headers,
             f"Content-Length: {len(body.encode())}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
