"""Writing FreeSWITCH's XML config fragments: a header that marks a file as generated, and
values made safe for both the XML parser and FreeSWITCH's pre-processor.

FreeSWITCH expands ``$${name}`` on every line of every config file before parsing it
(including comments), and ``${name}`` in many values at run time, so a value from the clinic
config that holds either would be read as syntax: it is refused, as are line breaks.  XML's own
specials (``&``, ``<``, ``"``) are escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

from clinicall import generated_files

#: The top of every generated file, in XML's comment syntax; the writer
#: (:mod:`clinicall.generated_files`) replaces only files that carry it.
HEADER = generated_files.header("clinicall freeswitch-config", start="<!--", end="-->")
MARK = f"<!-- {generated_files.MARK} freeswitch-config'"


def value(text: object) -> str:
    """``text`` as a double-quoted XML attribute value that FreeSWITCH reads literally."""
    s = str(text)
    if "\n" in s or "\r" in s:
        raise ValueError(f"a FreeSWITCH config value cannot contain a line break: {s!r}")
    if "${" in s:
        raise ValueError(f"a FreeSWITCH config value cannot contain '${{' (FreeSWITCH would "
                         f"expand it as a variable): {s!r}")
    return quoteattr(s)


def raw(text: str) -> str:
    """A value written by this package (it may use FreeSWITCH's variables on purpose)."""
    return quoteattr(text)


def element(tag: str, attrs: Iterable[tuple[str, str]], *, indent: int) -> str:
    """``<tag a="..." b="..."/>``; attribute values must already be quoted."""
    inner = " ".join(f"{name}={quoted}" for name, quoted in attrs)
    return " " * indent + f"<{tag} {inner}/>"


def param(name: str, quoted_value: str, *, indent: int) -> str:
    return element("param", [("name", raw(name)), ("value", quoted_value)], indent=indent)


def fragment(lines: Iterable[str], *, note: str = "") -> str:
    """A file to include: the header, an optional note, then ``<include>`` ... ``</include>``
    (the pre-processor drops the ``include`` element and keeps what is inside)."""
    body = "\n".join(lines)
    comment = f"<!-- {note} -->\n" if note else ""
    return f"{HEADER}{comment}<include>\n{body}\n</include>\n"
