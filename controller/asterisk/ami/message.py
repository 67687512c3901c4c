"""One AMI frame as received: ordered headers plus a case-insensitive first-value index.

AMI repeats some headers (``ChanVariable``, ``Variable``, ``Output``), so a plain dict would
lose data.  ``Message`` keeps the names and the values in wire order, as the parser splits
them, and on the first lookup lowers all names at once into one string, ``"\nevent\nchannel
\n...\n"``, in which a lookup is one ``find``: cheaper than building a dict per frame, which
was a third of the parser's time, for the few lookups a frame gets (bench/README.md).
Treated as read-only once built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import overload


class Message:
    """An AMI event or response.  Header names compare case-insensitively; values are exact."""

    __slots__ = ("_index", "_names", "_names_text", "_values", "body")

    def __init__(self, headers: Iterable[tuple[str, str]], body: tuple[str, ...] = ()) -> None:
        pairs = list(headers)
        self._names: tuple[str, ...] = tuple(name for name, _ in pairs)
        self._values: tuple[str, ...] = tuple(value for _, value in pairs)
        self._names_text: str | None = None
        self._index: str | dict[str, int] | None = None
        self.body = body  # raw output lines of a legacy ``Response: Follows``; empty otherwise

    @classmethod
    def _from_columns(
        cls, names: tuple[str, ...], values: tuple[str, ...], names_text: str | None = None
    ) -> Message:
        """Parser fast path: names and values as split, of the same length; ``names_text``
        the names joined by "\\n" when none holds a "\\n" (the parser joined them to check
        them: the lookup index is built from it, not joined again)."""
        msg = cls.__new__(cls)
        msg._names = names
        msg._values = values
        msg._names_text = names_text
        msg._index = None
        msg.body = ()
        return msg

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` in wire order (a new list each time)."""
        return list(zip(self._names, self._values, strict=True))

    def _position(self, name: str) -> int:
        """Where the first header called ``name`` (any case) is, or -1."""
        return self._find(name.lower())

    def _find(self, key: str, needle: str = "") -> int:
        """Where the first header whose lowered name is ``key`` is, or -1.  ``needle`` is
        ``"\\n" + key + "\\n"`` when the caller has it as a constant (the properties, read
        on every frame)."""
        index = self._index
        if index is None:
            text = self._names_text
            if text is not None and text.isascii():
                index = self._index = f"\n{text.lower()}\n"
            else:
                index = self._index = self._lower_names()
        if isinstance(index, dict):
            return index.get(key, -1)
        if not needle:
            if "\n" in key:
                return -1
            needle = f"\n{key}\n"
        at = index.find(needle)
        return -1 if at < 0 else index.count("\n", 0, at)

    def _lower_names(self) -> str | dict[str, int]:
        """``"\\nname\\n...\\n"`` lowered, when that lowers each name on its own: ASCII names
        (no character changes case with its neighbours) without "\\n" (the separator).
        Otherwise a dict from each lowered name to its first position."""
        joined = self._names_text
        if joined is None:
            joined = "\n".join(self._names)
            if joined.count("\n") != len(self._names) - 1:
                joined = "\u0100"  # not ASCII: the dict below
        if joined.isascii():
            return f"\n{joined.lower()}\n"
        index: dict[str, int] = {}
        for i, name in enumerate(self._names):
            index.setdefault(name.lower(), i)
        return index

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (any case), or ``default``."""
        at = self._position(name)
        return default if at < 0 else self._values[at]

    def getall(self, name: str) -> list[str]:
        """Every value of header ``name`` in wire order (for repeated headers)."""
        key = name.lower()
        return [v for n, v in zip(self._names, self._values, strict=True) if n.lower() == key]

    def __getitem__(self, name: str) -> str:
        at = self._position(name)
        if at < 0:
            raise KeyError(name.lower())
        return self._values[at]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._position(name) >= 0

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return zip(self._names, self._values, strict=True)

    def __len__(self) -> int:
        return len(self._names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (
            self._names == other._names
            and self._values == other._values
            and self.body == other.body
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def event(self) -> str:
        """The ``Event`` header, or "" for responses."""
        at = self._find("event", "\nevent\n")
        return "" if at < 0 else self._values[at]

    @property
    def response(self) -> str:
        """The ``Response`` header (Success, Error, Follows, Goodbye), or "" for events."""
        at = self._find("response", "\nresponse\n")
        return "" if at < 0 else self._values[at]

    @property
    def action_id(self) -> str:
        """The ``ActionID`` header, or "": looked up on every frame (the client's replies)."""
        at = self._find("actionid", "\nactionid\n")
        return "" if at < 0 else self._values[at]

    def __repr__(self) -> str:
        kind = f"Event={self.event}" if self.event else f"Response={self.response}"
        return f"<Message {kind} headers={len(self._names)}>"
