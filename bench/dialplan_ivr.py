"""The dialplan-only IVR: the menu a call walked through the controller, written as dialplan.

The CPU-per-call bench (``bench_asterisk_cpu.py``) compares the controller's cost with
Asterisk's, and issue 16 asks for a third figure: Asterisk running the same IVR in its own
dialplan, with no controller at all.  Rather than a hand-kept copy of the menu, this module
reads one real call's FastAGI commands (the observer's ``AGIExecStart`` events) and the
variables the controller left on the channel (``VarSet``), and writes the dialplan that plays
the same prompts and reads the same keys: the prompts before each key are one ``Read()`` (as
a dialplan IVR writes a menu: the key may come during any of them), a prompt with no key after
it is ``Playback()``, and the controller's variables are set in one ``MSet()``.  The generated
``clinicall-call`` context is then pointed at it instead of the FastAGI server.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

#: The variables the generated dialplan reads after the IVR (docs/engines/asterisk.md).
IVR_VARIABLES = ("CLINICALL_OUTCOME", "CLINICALL_LANG", "CLINICALL_ROUTE", "CLINICALL_PATH",
                 "CLINICALL_QUEUE", "CLINICALL_PRIORITY", "CLINICALL_MAX_WAIT",
                 "CLINICALL_OVERFLOW")  # fmt: skip
CONTEXT = "clinicall-bench-ivr"


def dialplan_ivr(commands: Iterable[str], variables: dict[str, str]) -> str:
    """The ``[clinicall-bench-ivr]`` context for one walked menu.

    ``commands``: the AGI command lines as Asterisk reported them (``GET DATA "f" "5000" "1"``);
    ``variables``: the IVR's variables as they were at the end of the call."""
    lines = [f"[{CONTEXT}]", "exten => s,1,NoOp(the IVR in dialplan)"]
    pending: list[str] = []
    for command in commands:
        words = shlex.split(command)
        verb = " ".join(words[:2]).upper()
        if words and words[0].upper() == "ANSWER":
            lines.append(" same => n,Answer()")
        elif verb == "STREAM FILE":
            pending.append(words[2])
        elif verb == "GET DATA":
            files = "&".join([*pending, words[2]])
            timeout_s = int(words[3]) / 1000 if len(words) > 3 else 5
            max_digits = words[4] if len(words) > 4 else "1"
            lines.append(f" same => n,Read(KEY,{files},{max_digits},,1,{timeout_s:g})")
            pending = []
    lines.extend(f" same => n,Playback({name})" for name in pending)
    assigned = ",".join(f"{name}={variables[name]}" for name in IVR_VARIABLES
                        if variables.get(name) is not None)  # fmt: skip
    lines += [f" same => n,MSet({assigned})", " same => n,Set(AGISTATUS=SUCCESS)",
              " same => n,Return()"]  # fmt: skip
    return "\n".join(lines) + "\n"


def without_controller(extensions: str, context: str) -> str:
    """The generated ``clinicall_extensions.conf`` with each FastAGI call replaced by a
    ``Gosub`` into ``context`` (the IVR above), and that context appended."""
    out: list[str] = []
    replaced = 0
    for line in extensions.splitlines():
        if ",AGI(agi://" in line and "/ivr," in line:
            line = line[: line.index(",AGI(")] + f",Gosub({CONTEXT},s,1)"
            replaced += 1
        out.append(line)
    if not replaced:
        raise ValueError("the dialplan has no FastAGI IVR call to replace")
    return "\n".join(out) + "\n\n" + context

