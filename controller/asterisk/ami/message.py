"""One AMI frame as received: ordered headers plus a case-insensitive first-value index.

AMI repeats some headers (``ChanVariable``, ``Variable``, ``Output``), so a plain dict would
lose data; a list alone would make every lookup a scan.  ``Message`` keeps both, built once by
the parser, and is treated as read-only afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import overload


class Message:
    """An AMI event or response.  Header names compare case-insensitively; values are exact."""

    __slots__ = ("_first", "body", "headers")

    def __init__(self, headers: Iterable[tuple[str, str]], body: tuple[str, ...] = ()) -> None:
        self.headers: list[tuple[str, str]] = list(headers)
        self.body = body  # raw output lines of a legacy ``Response: Follows``; empty otherwise
        first: dict[str, str] = {}
        for name, value in self.headers:
            first.setdefault(name.lower(), value)
        self._first = first

    @classmethod
    def _from_parts(
        cls, headers: list[tuple[str, str]], first: dict[str, str], body: tuple[str, ...]
    ) -> Message:
        """Parser fast path: the index is already built, skip the second pass."""
        msg = cls.__new__(cls)
        msg.headers = headers
        msg._first = first
        msg.body = body
        return msg

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (any case), or ``default``."""
        return self._first.get(name.lower(), default)

    def getall(self, name: str) -> list[str]:
        """Every value of header ``name`` in wire order (for repeated headers)."""
        key = name.lower()
        return [v for n, v in self.headers if n.lower() == key]

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.headers == other.headers and self.body == other.body

    __hash__ = None  # type: ignore[assignment]

    @property
    def event(self) -> str:
        """The ``Event`` header, or "" for responses."""
        return self._first.get("event", "")

    @property
    def response(self) -> str:
        """The ``Response`` header (Success, Error, Follows, Goodbye), or "" for events."""
        return self._first.get("response", "")

    @property
    def action_id(self) -> str:
        return self._first.get("actionid", "")

    def __repr__(self) -> str:
        kind = f"Event={self.event}" if self.event else f"Response={self.response}"
        return f"<Message {kind} headers={len(self.headers)}>"
