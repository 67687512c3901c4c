"""What the Event Socket parser hands out: a framed message, and the event some messages carry.

An ESL message is an outer header block plus an optional body of ``Content-Length`` bytes
(docs/engines/freeswitch.md, "Framing").  Events travel *inside* a message: the body of a
``text/event-plain`` or ``text/event-json`` message, or (the outbound ``connect`` reply) the
outer header block itself.  The parser decodes that event once, so ``EslMessage.event`` is
ready to read; both types are treated as read-only afterwards.

Header names compare case-insensitively (FreeSWITCH itself looks them up so); a repeated
header keeps every value in ``headers``, and ``get`` returns the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import overload


class Headers:
    """Ordered ``(name, value)`` pairs plus a case-insensitive first-value index."""

    __slots__ = ("_first", "headers")

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.headers = headers
        # Built from the end, so the first of a repeated header wins.
        self._first = {name.lower(): value for name, value in reversed(headers)}

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (any case), or ``default``."""
        return self._first.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)


class EslEvent(Headers):
    """One FreeSWITCH event: its decoded headers (URL-decoded for plain events, as sent for
    JSON ones) and its own body (a ``BACKGROUND_JOB``'s output), "" when it has none.  The
    inner ``Content-Length`` is framing and is not kept as a header."""

    __slots__ = ("body",)

    def __init__(self, headers: list[tuple[str, str]], body: str = "") -> None:
        super().__init__(headers)
        self.body = body

    @property
    def name(self) -> str:
        """``Event-Name`` (``CHANNEL_CREATE``, ``CUSTOM``, ``CHANNEL_DATA``, ...)."""
        return self._first.get("event-name", "")

    @property
    def subclass(self) -> str:
        """``Event-Subclass`` of a CUSTOM event (``callcenter::info``), else ""."""
        return self._first.get("event-subclass", "")

    @property
    def unique_id(self) -> str:
        """The channel's uuid (``Unique-ID``), "" for events about no channel."""
        return self._first.get("unique-id", "")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EslEvent):
            return NotImplemented
        return self.headers == other.headers and self.body == other.body

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        what = self.name + (f" {self.subclass}" if self.subclass else "")
        return f"<EslEvent {what or '?'} headers={len(self.headers)}>"


class EslMessage(Headers):
    """One framed message: outer headers, the raw body, and the event it carries (if any).

    The outer header values are as sent, except in the outbound ``connect`` reply, whose
    header block is a whole serialized event and so URL-encoded like one: there they are
    decoded (its ``Reply-Text`` arrives as ``%2BOK%0A``).
    """

    __slots__ = ("body", "event")

    def __init__(
        self, headers: list[tuple[str, str]], body: bytes = b"", event: EslEvent | None = None
    ) -> None:
        super().__init__(headers)
        self.body = body
        self.event = event

    @property
    def content_type(self) -> str:
        return self._first.get("content-type", "")

    @property
    def reply_text(self) -> str:
        """``Reply-Text`` of a ``command/reply``, without the trailing newline the ``connect``
        reply has; "" for other messages."""
        return self._first.get("reply-text", "").rstrip("\n")

    @property
    def text(self) -> str:
        """The body as text (an ``api/response``'s output); invalid UTF-8 is replaced."""
        return self.body.decode("utf-8", "replace")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EslMessage):
            return NotImplemented
        return (self.headers, self.body, self.event) == (other.headers, other.body, other.event)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        event = f" event={self.event!r}" if self.event is not None else ""
        return f"<EslMessage {self.content_type or '?'} body={len(self.body)}{event}>"
