"""Which Debian mirror to build from: the machine's own apt sources, parsed without I/O.

Using the host's configured mirror (rather than a hard-wired one) makes the build work behind
the same mirror or proxy that ``apt-get`` already uses on this machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

DEFAULT_MIRROR = "http://deb.debian.org/debian"
"""The standard Debian mirror name, used when the machine's apt sources name none."""

MIRROR_ENV = "CLINICALL_DEBIAN_MIRROR"
DEB822_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
ONE_LINE_SOURCES = Path("/etc/apt/sources.list")


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    """Split a deb822 file into stanzas of ``Field: value`` (continuation lines folded)."""
    stanza: dict[str, str] = {}
    last = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line:
            if stanza:
                yield stanza
            stanza, last = {}, ""
        elif line.startswith("#"):
            continue
        elif line[0] in " \t" and last:
            stanza[last] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            stanza[last] = value.strip()
    if stanza:
        yield stanza


def _is_main_archive(uri: str, suites: list[str]) -> bool:
    """True for the main Debian archive (not security, not ports, not a third-party repo)."""
    path = uri.rstrip("/").rsplit("/", 1)[-1]
    return path == "debian" and not any(s.endswith("-security") for s in suites)


def mirror_from_deb822(text: str) -> str | None:
    """The URI of the main Debian archive in a deb822 ``.sources`` file, or None."""
    for stanza in _deb822_stanzas(text):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        suites = stanza.get("suites", "").split()
        for uri in stanza.get("uris", "").split():
            if _is_main_archive(uri, suites):
                return uri.rstrip("/")
    return None


def mirror_from_sources_list(text: str) -> str | None:
    """The URI of the main Debian archive in a one-line-style ``sources.list``, or None."""
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        rest = words[1:]
        if rest and rest[0].startswith("["):
            while rest and not rest[0].endswith("]"):
                rest = rest[1:]
            rest = rest[1:]
        if len(rest) >= 2 and _is_main_archive(rest[0], [rest[1]]):
            return rest[0].rstrip("/")
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def host_mirror() -> str:
    """The mirror: ``$CLINICALL_DEBIAN_MIRROR``, else the host's apt sources, else the default."""
    override = os.environ.get(MIRROR_ENV, "").strip()
    if override:
        return override.rstrip("/")
    deb822 = _read(DEB822_SOURCES)
    if deb822 is not None and (found := mirror_from_deb822(deb822)):
        return found
    one_line = _read(ONE_LINE_SOURCES)
    if one_line is not None and (found := mirror_from_sources_list(one_line)):
        return found
    return DEFAULT_MIRROR
