"""Putting the generated files in place without ever losing a file of the administrator's.

A file the generator wrote starts with its header (:data:`~.xmlfile.MARK`), so it can be
replaced freely; any other file of the same name is the administrator's and is left alone
unless they say ``--force``, and even then it is first copied to ``<name>.bak`` (or
``<name>.bak.N`` when that exists).  ``--diff`` shows what would change and writes nothing.
Each file is written to a temporary name and renamed into place, so FreeSWITCH never reads
half a file.  This module blocks (file I/O); the command line calls it directly.
"""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from clinicall.freeswitch_config.xmlfile import MARK


class State(Enum):
    NEW = "new"
    SAME = "unchanged"
    CHANGED = "changed"
    FOREIGN = "not written by clinicall"


@dataclass(frozen=True)
class Planned:
    path: Path
    text: str
    state: State
    installed: str | None  # what is there now (None: no file)


class ForeignFiles(Exception):
    """Files of the same names exist that clinicall did not write (``--force`` replaces them,
    keeping a ``.bak``)."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__(", ".join(str(p) for p in paths))
        self.paths = paths


def is_generated(text: str) -> bool:
    return text.startswith(MARK)


def plan(out_dir: Path, files: Mapping[str, str]) -> list[Planned]:
    """What writing ``files`` into ``out_dir`` would do to each, in name order."""
    planned = []
    for name in sorted(files):
        path, text = out_dir / name, files[name]
        try:
            installed: str | None = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            installed = None
        except UnicodeDecodeError:
            installed = path.read_bytes().decode("utf-8", "replace")
        if installed is None:
            state = State.NEW
        elif not is_generated(installed):
            state = State.FOREIGN
        else:
            state = State.SAME if installed == text else State.CHANGED
        planned.append(Planned(path, text, state, installed))
    return planned


def diff(planned: list[Planned]) -> str:
    """A unified diff of every file that would change (a new file against nothing)."""
    out: list[str] = []
    for item in planned:
        if item.state is State.SAME:
            continue
        before = (item.installed or "").splitlines(keepends=True)
        after = item.text.splitlines(keepends=True)
        label = str(item.path)
        out += difflib.unified_diff(before, after, f"{label} (installed)",
                                    f"{label} (generated)")
    return "".join(out)


def write(planned: list[Planned], *, force: bool) -> list[str]:
    """Write what changed; return one line per file saying what was done.

    Raises ForeignFiles, before writing anything, when a file of the administrator's would be
    replaced and ``force`` is false.
    """
    foreign = [p.path for p in planned if p.state is State.FOREIGN]
    if foreign and not force:
        raise ForeignFiles(foreign)
    done = []
    for item in planned:
        if item.state is State.SAME:
            done.append(f"unchanged {item.path}")
            continue
        note = ""
        if item.state is State.FOREIGN:
            backup = _backup_name(item.path)
            shutil.copy2(item.path, backup)
            note = f" (the file that was there is kept as {backup})"
        item.path.parent.mkdir(parents=True, exist_ok=True)
        part = item.path.with_name(f".{item.path.name}.part")
        part.write_text(item.text, encoding="utf-8")
        os.replace(part, item.path)
        done.append(f"wrote {item.path}{note}")
    return done


def _backup_name(path: Path) -> Path:
    candidate = path.with_name(path.name + ".bak")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak.{n}")
        n += 1
    return candidate
