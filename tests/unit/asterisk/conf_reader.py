"""A small reader of Asterisk .conf text for tests: section -> [(key, value)]."""

from __future__ import annotations

import re

Sections = dict[str, list[tuple[str, str]]]


def sections(text: str) -> Sections:
    """Repeated sections merge; ``[name](+)`` reads as ``name``; ``;`` comments are dropped."""
    out: Sections = {}
    current = ""
    for raw in text.splitlines():
        line = re.sub(r"(?<!\\);.*", "", raw).strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = line[1:line.index("]")]
            out.setdefault(current, [])
            continue
        key, _, val = re.split(r"\s*(=>|=)\s*", line, maxsplit=1)
        out[current].append((key, val))
    return out


def one(section: list[tuple[str, str]], key: str) -> str:
    (val,) = [val for k, val in section if k == key]
    return val
