"""Where a call's recording lives: ``<YYYY>/<MM>/<DD>/<linkedid>.<format>`` in the spool.

One layout, written in two forms that must never drift: :func:`dialplan_filename` is the
``MixMonitor()`` file name the dialplan builds at run time (the clinic's local date and
``${CHANNEL(linkedid)}``), :func:`recording_path` is the same name built in Python, and
:func:`parse_recording_path` reads one back from the ``MIXMONITOR_FILENAME`` Asterisk reports.

The name carries no caller data (no number, no name): nothing a caller controls reaches the
file system or a shell, and the file name itself is not personal data.  The path is relative:
Asterisk puts a relative ``MixMonitor`` file under its own monitor spool
(``<astspooldir>/monitor``), so the dialplan needs no host path, and clinicall finds the file
under ``recordings.spool_dir`` (the same directory as this host sees it).  One directory per
day keeps directories small and lets retention drop whole days.

The file extension picks the format (docs/engines/asterisk.md): ``wav`` is 8 kHz 16-bit PCM (16
KB/s), ``ogg`` is Vorbis and ``opus`` Ogg Opus; the last two play in browsers as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from typing import Literal, get_args

RecordingFormat = Literal["ogg", "wav", "opus"]
FORMATS: tuple[RecordingFormat, ...] = get_args(RecordingFormat)
_BY_EXTENSION: dict[str, RecordingFormat] = {f: f for f in FORMATS}

#: A linkedid as Asterisk makes them (``1763900000.12``) or an Originate ChannelId: no slash,
#: no leading dot, nothing a shell or a path could read as syntax.
_LINKEDID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DAY_PARTS = (re.compile(r"^[0-9]{4}$"), re.compile(r"^[0-9]{2}$"), re.compile(r"^[0-9]{2}$"))
#: The dialplan's date directories, as ``STRFTIME`` formats them.
DAY_FORMAT = "%Y/%m/%d"
LINKEDID_EXPR = "${CHANNEL(linkedid)}"


@dataclass(frozen=True, slots=True)
class RecordingName:
    """A recording's place in the layout: its day (clinic's local date), call and format."""

    day: date
    linkedid: str
    format: RecordingFormat

    @property
    def path(self) -> PurePosixPath:
        """Relative to the spool (and to the storage root later): ``2026/11/24/<id>.ogg``."""
        return recording_path(self.linkedid, self.day, self.format)


def recording_path(linkedid: str, day: date, fmt: RecordingFormat) -> PurePosixPath:
    """The relative path of the call ``linkedid``'s recording made on ``day``."""
    if not _LINKEDID.match(linkedid):
        raise ValueError(f"not a linkedid usable in a file name: {linkedid!r}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown recording format {fmt!r}; expected one of {FORMATS}")
    return PurePosixPath(f"{day:%Y}", f"{day:%m}", f"{day:%d}", f"{linkedid}.{fmt}")


def dialplan_filename(fmt: RecordingFormat, timezone: str) -> str:
    """The ``MixMonitor`` file name, evaluated by Asterisk when the call is recorded.

    ``timezone`` (an IANA name, e.g. the clinic's) makes the day directory the clinic's local
    date whatever the PBX's own time zone.  Only the clock and the linkedid go in.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown recording format {fmt!r}; expected one of {FORMATS}")
    if "," in timezone or "}" in timezone or "$" in timezone:
        raise ValueError(f"not a time zone name: {timezone!r}")
    day = "${STRFTIME(${EPOCH}," + timezone + "," + DAY_FORMAT + ")}"
    return f"{day}/{LINKEDID_EXPR}.{fmt}"


def parse_recording_path(path: str) -> RecordingName | None:
    """The layout name at the end of ``path`` (absolute as ``MIXMONITOR_FILENAME`` reports
    it, or relative); None when the path does not follow the layout."""
    parts = PurePosixPath(path).parts
    if len(parts) < 4:
        return None
    year, month, day_, filename = parts[-4:]
    if not all(p.match(s) for p, s in zip(_DAY_PARTS, (year, month, day_), strict=True)):
        return None
    stem, dot, ext = filename.rpartition(".")
    if not dot or ext not in _BY_EXTENSION or not _LINKEDID.match(stem):
        return None
    try:
        day = date(int(year), int(month), int(day_))
    except ValueError:
        return None
    return RecordingName(day=day, linkedid=stem, format=_BY_EXTENSION[ext])
