"""clinicall's recording storage: where each file of a recording lives, and the one gate every
file access goes through.

Paths are built from ids only: ``<YYYY>/<MM>/<DD>/<recording id>.<ext>`` (the day the call
started, UTC), so nothing a caller or a user typed ever reaches the file system.  A relative
path read back from the catalogue is still resolved through :meth:`Storage.resolve`, which
refuses an absolute path, any ``..``, and anything whose real location (symlinks followed) is
not inside the root: a row edited by hand or a symlink planted in the root cannot make the web
app serve ``/etc/passwd`` (docs/recordings.md).
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path, PurePosixPath

#: A stored path: date directories and a file named by the recording's id.
_STORED = re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{1,19}\.(orig|play)\.[a-z0-9]{2,5}$")
#: Temporary files of an import in progress; cleared when an import run starts.
PARTIAL_DIR = ".partial"


class OutsideStorage(ValueError):
    """A path that does not name a file inside the storage root."""


def stored_name(recording_id: int, started_at: datetime, role: str, ext: str) -> str:
    """``<YYYY>/<MM>/<DD>/<id>.<role>.<ext>`` (``role`` is ``orig`` or ``play``)."""
    if role not in ("orig", "play") or not re.fullmatch(r"[a-z0-9]{2,5}", ext):
        raise ValueError(f"not a stored file kind: {role!r} {ext!r}")
    day = started_at
    return str(PurePosixPath(f"{day:%Y}", f"{day:%m}", f"{day:%d}",
                             f"{int(recording_id)}.{role}.{ext}"))  # fmt: skip


def safe_relative(relative: str) -> PurePosixPath:
    """``relative`` as a path with no root, no ``..``, no empty or hidden part (else raise)."""
    if not relative or "\x00" in relative or "\\" in relative:
        raise OutsideStorage(f"not a relative path: {relative!r}")
    path = PurePosixPath(relative)
    hidden = any(part in ("", ".", "..") or part.startswith(".") for part in path.parts)
    if str(path) != relative or path.is_absolute() or hidden:
        raise OutsideStorage(f"not a plain relative path: {relative!r}")
    return path


class Storage:
    """The storage root and the gate of every access to it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def resolve(self, relative: str, *, stored: bool = True) -> Path:
        """The real file for ``relative``; :class:`OutsideStorage` unless it is a stored name
        (``stored``) and, symlinks followed, inside the root.  No symlink is followed at all:
        a link planted anywhere in the root is refused even when it points inside."""
        path = safe_relative(relative)
        if stored and not _STORED.match(str(path)):
            raise OutsideStorage(f"not a stored recording name: {relative!r}")
        lexical = self.root.joinpath(*path.parts)
        real = Path(os.path.realpath(lexical))
        if real != lexical or not real.is_relative_to(self.root):
            raise OutsideStorage(f"leaves the storage root: {relative!r}")
        return real

    def partial(self, name: str) -> Path:
        """A temporary file for an import in progress (same file system: ``os.replace``)."""
        directory = self.root / PARTIAL_DIR
        directory.mkdir(parents=True, exist_ok=True)
        return directory / safe_relative(name).name


class Spool:
    """The engine's recording spool (``recordings.spool_dir``), read through the same rules."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def resolve(self, relative: str) -> Path:
        path = safe_relative(relative)
        lexical = self.root.joinpath(*path.parts)
        real = Path(os.path.realpath(lexical))
        if real != lexical or not real.is_relative_to(self.root):
            raise OutsideStorage(f"leaves the spool: {relative!r}")
        return real
