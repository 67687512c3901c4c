"""HTTP byte ranges (RFC 9110 section 14) for the recordings player's seeks: parsing only, no
I/O, so every case is tested on strings.

One range per request: a ``Range`` the server does not honour is answered with the whole file,
which RFC 9110 allows (a multi-range, a malformed header, a unit other than bytes).  A range
that starts past the end is 416.  ``If-Range`` makes the range conditional: an entity tag must
equal the current one by strong comparison (a weak tag never matches), a date must equal the
file's ``Last-Modified``; anything else means the client's copy is stale, so it gets the whole
file (200), never a piece of a different one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class Part:
    """Bytes ``start`` to ``end`` inclusive."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


@dataclass(frozen=True, slots=True)
class Unsatisfiable:
    """No byte of the file is in the range: 416 with ``Content-Range: bytes */<size>``."""

    def content_range(self, size: int) -> str:
        return f"bytes */{size}"


Choice = Part | Unsatisfiable | None  # None: the whole file, 200


def choose(range_header: str | None, if_range: str | None, *, size: int, etag: str,
           last_modified: str) -> Choice:
    """What to send for these request headers and this file."""
    if range_header is None:
        return None
    if if_range is not None and not _still_valid(if_range.strip(), etag, last_modified):
        return None
    found = _RANGE.match(range_header.strip().replace(" ", ""))
    if found is None:
        return None  # malformed, several ranges, another unit: ignored
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            return Unsatisfiable()
        return Part(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignored
    if start >= size:
        return Unsatisfiable()
    return Part(start, min(end, size - 1))


def _still_valid(if_range: str, etag: str, last_modified: str) -> bool:
    if if_range.startswith(("W/", '"')):
        return not if_range.startswith("W/") and if_range == etag
    return if_range == last_modified
