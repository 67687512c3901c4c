"""Client commands as bytes (docs/engines/freeswitch.md, "Inbound" and "Outbound").

A command is one line ended by a blank line; ``sendmsg`` adds header lines before the blank
line.  Any CR or LF inside a command, a header name or a value would end the command early and
inject another one (``api`` text from a caller's input, a file name), so it is refused with
ValueError naming the part, never the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

EVENT_FORMATS = ("plain", "json")
CUSTOM = "CUSTOM"


def encode_command(command: str, headers: Mapping[str, str] | None = None) -> bytes:
    """``command`` (``api status``, ``auth PW``, ``myevents``...) with optional header lines."""
    _check("command", command)
    if not command.strip():
        raise ValueError("ESL command is empty")
    lines = [command]
    for name, value in (headers or {}).items():
        _check("header name", name)
        _check(f"value of header {name!r}", value)
        if not name or ":" in name:
            raise ValueError(f"ESL header name {name!r} is empty or has a colon")
        lines.append(f"{name}: {value}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_sendmsg(
    app: str, arg: str = "", *, event_uuid: str, uuid: str = "", lock: bool = False
) -> bytes:
    """``sendmsg [uuid]`` executing dialplan application ``app`` with ``arg``.

    ``event_uuid`` comes back as ``Application-UUID`` on the app's ``CHANNEL_EXECUTE`` and
    ``CHANNEL_EXECUTE_COMPLETE``: it is how the completion is matched.  ``uuid`` is "" on an
    outbound socket (its own channel) and the channel's uuid on an inbound one.
    """
    headers = {"call-command": "execute", "execute-app-name": app}
    if arg:
        headers["execute-app-arg"] = arg
    headers["Event-UUID"] = event_uuid
    if lock:
        headers["event-lock"] = "true"
    return encode_command(f"sendmsg {uuid}".rstrip(), headers)


def encode_hangup(cause: str = "NORMAL_CLEARING", *, uuid: str = "") -> bytes:
    """``sendmsg`` with ``call-command: hangup``."""
    return encode_command(
        f"sendmsg {uuid}".rstrip(), {"call-command": "hangup", "hangup-cause": cause}
    )


def subscription_command(
    events: Iterable[str], subclasses: Iterable[str] = (), *, format: str = "plain"
) -> str:
    """``event plain|json NAMES... [CUSTOM sub...]`` with ``CUSTOM`` last.

    FreeSWITCH takes every name after ``CUSTOM`` as a subclass, so an event named after it is
    silently never delivered (``BACKGROUND_JOB`` after ``CUSTOM`` loses every bgapi result).
    Hence ``CUSTOM`` is never accepted among ``events``: subclasses go in ``subclasses``.
    """
    if format not in EVENT_FORMATS:
        raise ValueError(f"ESL event format must be plain or json, not {format!r}")
    names = list(events)
    subs = list(subclasses)
    for name in [*names, *subs]:
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"ESL event name {name[:40]!r} is empty or has a space")
    if any(name.upper() == CUSTOM for name in names):
        raise ValueError("pass CUSTOM subclasses as subclasses: CUSTOM must come last")
    words = [*dict.fromkeys(names)]
    if subs:
        words += [CUSTOM, *dict.fromkeys(subs)]
    if not words:
        raise ValueError("an ESL subscription needs at least one event")
    return f"event {format} {' '.join(words)}"


def _check(what: str, text: str) -> None:
    if "\r" in text or "\n" in text:
        raise ValueError(f"ESL {what} contains CR/LF (command injection refused)")
