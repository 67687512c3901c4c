"""The last resort of the command line: an error no handler expected is one line for the
user and a file with its traceback for whoever fixes it."""

from __future__ import annotations

import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path


def write_crash_log(command: str) -> Path | None:
    """Write the exception being handled, with its traceback, to a new file readable by this
    user only (a message may hold what the store or Asterisk said); its path, or None when
    nothing could be written."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        fd, name = tempfile.mkstemp(prefix=f"clinicall-crash-{stamp}-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            # not the arguments: a --db URL may hold a password
            out.write(f"clinicall {command}: {stamp}\n\n")
            out.write(traceback.format_exc())
    except OSError:
        return None
    return Path(name)
