"""Writing Asterisk's ``.conf`` syntax: sections of ``key = value`` lines, values escaped.

In Asterisk config files ``;`` starts a comment anywhere on a line, so a secret or a name with
a semicolon must be written as ``\\;``; a newline would start a new setting, so it is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from clinicall.generated_files import header

HEADER = header("clinicall asterisk-config", start=";")


def value(text: object) -> str:
    """``text`` made safe as one config value."""
    s = str(text)
    if "\n" in s or "\r" in s:
        raise ValueError(f"a config value cannot contain a line break: {s!r}")
    return s.replace(";", r"\;")


def section(name: str, settings: Iterable[tuple[str, object]], *, op: str = "=",
            comment: str = "", extend: bool = False) -> str:
    """One ``[name]`` section; ``op`` is ``=>`` for object lines such as ``member =>``.

    ``extend``: ``[name](+)``, settings added to the administrator's own section of that name
    (their ``[general]``), which must come before the ``#include`` of this file; later values
    win, so ours apply without editing theirs.
    """
    lines = [f"; {comment}"] if comment else []
    lines.append(f"[{name}](+)" if extend else f"[{name}]")
    lines += [f"{key} {op} {value(v)}" for key, v in settings]
    return "\n".join(lines) + "\n"


def document(*sections: str) -> str:
    return HEADER + "\n" + "\n".join(sections)


def yes(flag: bool) -> str:
    return "yes" if flag else "no"
