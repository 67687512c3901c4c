"""What Asterisk has loaded against what the clinic config generates, as comparable lines.

Pure functions over text and AMI messages: the generated ``clinicall_extensions.conf`` and
``ShowDialPlan``'s ``ListDialplan`` events both become ``context exten priority App(data)``
lines; the generated ``clinicall_queues.conf`` and ``QueueStatus``'s ``QueueParams`` and
``QueueMember`` events both become ``queue: strategy``/``queue: member`` lines.  Equal lines,
no drift; otherwise :func:`diff` shows the difference.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from clinicall.controller.asterisk.ami.message import Message
from clinicall.settings.models import ClinicConfig

#: Lines of a diff shown under a drift check.
MAX_DIFF_LINES = 30
_EXTEN = re.compile(r"^exten\s*=>\s*([^,]+),([^,(]+)(?:\([^)]*\))?,(.*)$")
_SAME = re.compile(r"^same\s*=>\s*([^,(]+)(?:\([^)]*\))?,(.*)$")
_CONTEXT = re.compile(r"^\[([^\]]+)\]")


def _app_line(context: str, exten: str, priority: int, step: str) -> str:
    app, _, data = step.partition("(")
    return f"{context} {exten} {priority} {app.strip()}({data.removesuffix(')')})"


def generated_dialplan(text: str) -> list[str]:
    """Every priority of the generated dialplan as ``context exten priority App(data)``."""
    out: list[str] = []
    context, exten, priority = "", "", 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if m := _CONTEXT.match(line):
            context = m.group(1)
        elif m := _EXTEN.match(line):
            exten, first, step = m.groups()
            priority = int(first) if first.isdigit() else 1
            out.append(_app_line(context, exten, priority, step))
        elif m := _SAME.match(line):
            priority += 1
            out.append(_app_line(context, exten, priority, m.group(2)))
        elif line.startswith("include"):
            out.append(f"{context} include {line.split('=>', 1)[1].strip()}")
    return sorted(out)


def loaded_dialplan(events: Iterable[Message], contexts: set[str]) -> list[str]:
    """``ListDialplan`` events of ``contexts`` as the same lines."""
    out = []
    for m in events:
        context = m.get("Context", "")
        if m.get("Event") != "ListDialplan" or context not in contexts:
            continue
        if include := m.get("IncludeContext"):
            out.append(f"{context} include {include}")
            continue
        app, data = m.get("Application", ""), m.get("AppData", "")
        out.append(f"{context} {m.get('Extension', '')} {m.get('Priority', '')} {app}({data})")
    return sorted(set(out))


def generated_queues(config: ClinicConfig, text: str) -> list[str]:
    """Each generated queue's strategy and static members, from the generated file."""
    out: list[str] = []
    queue = ""
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if m := _CONTEXT.match(line):
            queue = m.group(1)
            continue
        if queue not in config.queues:
            continue
        key, _, value = (part.strip() for part in line.replace("=>", "=").partition("="))
        if key == "strategy":
            out.append(f"{queue}: strategy {value}")
        elif key == "member":
            interface, penalty, name = [*value.split(","), "", ""][:3]
            out.append(f"{queue}: member {interface} penalty {penalty or 0} name {name}")
    return sorted(out)


def loaded_queues(events: Iterable[Message], queues: Iterable[str]) -> list[str]:
    """``QueueParams``/``QueueMember`` events as the same lines (static members only: the
    controller adds and removes dynamic ones while it runs)."""
    wanted = set(queues)
    out = []
    for m in events:
        queue = m.get("Queue", "")
        if queue not in wanted:
            continue
        if m.get("Event") == "QueueParams":
            out.append(f"{queue}: strategy {m.get('Strategy', '')}")
        elif m.get("Event") == "QueueMember" and m.get("Membership", "") == "static":
            interface = m.get("Location") or m.get("Interface", "")
            out.append(f"{queue}: member {interface} penalty {m.get('Penalty', '')} "
                       f"name {m.get('Name', '')}")
    return sorted(out)


def missing_queues(config: ClinicConfig, loaded: list[str]) -> list[str]:
    present = {line.split(":", 1)[0] for line in loaded}
    return [q for q in config.queues if q not in present]


def diff(generated: list[str], loaded: list[str], *, what: str) -> tuple[str, ...]:
    """The unified diff (generated → loaded), at most :data:`MAX_DIFF_LINES` lines."""
    lines = [line.rstrip("\n") for line in difflib.unified_diff(
        generated, loaded, f"generated {what}", f"loaded {what}", lineterm="", n=0)]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return tuple(lines)

