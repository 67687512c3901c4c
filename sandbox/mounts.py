"""Reading the mount table: deleting a directory with /dev bound inside it would be a disaster."""

from __future__ import annotations

from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")


def _unescape(field: str) -> str:
    """Mountinfo escapes space, tab, newline and backslash as octal ``\\040`` and so on."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_points(mountinfo: str) -> list[str]:
    """The mount points listed in the text of a ``/proc/<pid>/mountinfo`` file."""
    points = []
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(_unescape(fields[4]))
    return points


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` in this process's mount namespace."""
    base = str(path.resolve()).rstrip("/")
    text = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
    return [p for p in mount_points(text) if p == base or p.startswith(base + "/")]
