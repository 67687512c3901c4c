"""One AMI frame as received: ordered headers plus a case-insensitive first-value index.

AMI repeats some headers (``ChanVariable``, ``Variable``, ``Output``), so a plain dict would
lose data.  ``Message`` keeps the values in wire order and the names as the parser leaves
them: one string, the names joined by NUL (a NUL cannot be in a name the parser joins),
split into a tuple only when asked for (``headers``, iteration, ``getall``).  On the first
lookup all names are lowered at once into ``"\\0event\\0channel\\0...\\0"``, in which a lookup
is one ``find``: cheaper than building a dict per frame, which was a third of the parser's
time, for the few lookups a frame gets (bench/README.md).  Treated as read-only once built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import overload


class Message:
    """An AMI event or response.  Header names compare case-insensitively; values are exact."""

    # The parser's block decode builds messages slot by slot (``AMIParser._feed_block``).
    __slots__ = ("_index", "_names", "_names_text", "_values", "body")

    def __init__(self, headers: Iterable[tuple[str, str]], body: tuple[str, ...] = ()) -> None:
        pairs = list(headers)
        # ``_names`` or ``_names_text`` holds the names: a tuple, or joined by NUL when no
        # name holds a NUL (the parser's); the other is None until needed.
        self._names: tuple[str, ...] | None = tuple(name for name, _ in pairs)
        self._values: tuple[str, ...] = tuple(value for _, value in pairs)
        self._names_text: str | None = None
        self._index: str | dict[str, int] | None = None
        self.body = body  # raw output lines of a legacy ``Response: Follows``; empty otherwise

    @classmethod
    def _from_columns(cls, names: tuple[str, ...], values: tuple[str, ...]) -> Message:
        """Parser path for frames line by line: names and values of the same length."""
        msg = cls.__new__(cls)
        msg._names = names
        msg._values = values
        msg._names_text = None
        msg._index = None
        msg.body = ()
        return msg

    def _name_tuple(self) -> tuple[str, ...]:
        names = self._names
        if names is None:
            text = self._names_text
            assert text is not None  # one of the two is always set
            names = self._names = tuple(text.split("\0"))
        return names

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` in wire order (a new list each time)."""
        return list(zip(self._name_tuple(), self._values, strict=True))

    def _position(self, name: str) -> int:
        """Where the first header called ``name`` (any case) is, or -1."""
        return self._find(name.lower())

    def _find(self, key: str, needle: str = "") -> int:
        """Where the first header whose lowered name is ``key`` is, or -1.  ``needle`` is
        ``"\\0" + key + "\\0"`` when the caller has it as a constant (the properties, read
        on every frame)."""
        index = self._index
        if index is None:
            text = self._names_text
            if text is not None and text.isascii():
                index = self._index = f"\0{text.lower()}\0"
            else:
                index = self._index = self._lower_names()
        if isinstance(index, dict):
            return index.get(key, -1)
        if not needle:
            if "\0" in key:
                return -1
            needle = f"\0{key}\0"
        # ``in`` first: a miss (an event's ActionID) costs no ``find``, whose arguments
        # are parsed; a hit at the start (an event's Event) no ``count``.
        if needle not in index:
            return -1
        at = index.find(needle)
        return index.count("\0", 0, at) if at else 0

    def _lower_names(self) -> str | dict[str, int]:
        """``"\\0name\\0...\\0"`` lowered, when that lowers each name on its own: ASCII names
        (no character changes case with its neighbours) without NUL (the separator).
        Otherwise a dict from each lowered name to its first position."""
        joined = self._names_text
        if joined is None:
            names = self._name_tuple()
            joined = "\0".join(names)
            if joined.count("\0") != len(names) - 1:
                joined = "\u0100"  # not ASCII: the dict below
        if joined.isascii():
            return f"\0{joined.lower()}\0"
        index: dict[str, int] = {}
        for i, name in enumerate(self._name_tuple()):
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
        names = self._name_tuple()
        return [v for n, v in zip(names, self._values, strict=True) if n.lower() == key]

    def __getitem__(self, name: str) -> str:
        at = self._position(name)
        if at < 0:
            raise KeyError(name.lower())
        return self._values[at]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._position(name) >= 0

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return zip(self._name_tuple(), self._values, strict=True)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (
            self._values == other._values
            and self._name_tuple() == other._name_tuple()
            and self.body == other.body
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def event(self) -> str:
        """The ``Event`` header, or "" for responses."""
        at = self._find("event", "\0event\0")
        return "" if at < 0 else self._values[at]

    @property
    def response(self) -> str:
        """The ``Response`` header (Success, Error, Follows, Goodbye), or "" for events."""
        at = self._find("response", "\0response\0")
        return "" if at < 0 else self._values[at]

    @property
    def action_id(self) -> str:
        """The ``ActionID`` header, or "": looked up on every frame (the client's replies)."""
        at = self._find("actionid", "\0actionid\0")
        return "" if at < 0 else self._values[at]

    def __repr__(self) -> str:
        kind = f"Event={self.event}" if self.event else f"Response={self.response}"
        return f"<Message {kind} headers={len(self._values)}>"
