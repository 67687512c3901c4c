"""Configs written before the engine choice still load, with a warning that says what to change.

- A top-level ``asterisk:`` section is read as ``engine:`` with ``type: asterisk``.
- Asterisk's own queue strategy names (``rrmemory``, ``ringall``, ...) are read as the neutral
  names both engines map (``round_robin``, ``ring_all``, ...).

Both rewrite the parsed YAML before validation and report a warning at the line to change;
``RENAMED`` tells the loader where a renamed section's keys really are in the file.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node

from clinicall.settings import yamlmarks
from clinicall.settings.models import ASTERISK_STRATEGIES
from clinicall.settings.problems import ConfigProblem

#: A section's name in the model → its older name in files.
RENAMED = {"engine": "asterisk"}
#: Asterisk's strategy names → the neutral ones.
NEUTRAL_STRATEGY = {asterisk: neutral for neutral, asterisk in ASTERISK_STRATEGIES.items()}


def upgrade(name: str, root: Node | None, data: dict[str, Any]) -> tuple[list[ConfigProblem],
                                                                         dict[str, str]]:
    """Rewrite ``data`` in place; return the warnings (or the error) and the sections renamed
    (model name → name in the file)."""
    problems, renamed = _engine_section(name, root, data)
    problems += _strategies(name, root, data)
    return problems, renamed


def _engine_section(name: str, root: Node | None,
                    data: dict[str, Any]) -> tuple[list[ConfigProblem], dict[str, str]]:
    if "asterisk" not in data:
        return [], {}
    place = yamlmarks.locate(root, ("asterisk",))
    if "engine" in data:
        other = yamlmarks.locate(root, ("engine",))
        return [ConfigProblem(name, place.line, place.column, "asterisk",
                              f"both 'asterisk:' and 'engine:' (line {other.line}) are given; "
                              "keep 'engine:' only")], {}  # fmt: skip
    section = data.pop("asterisk")
    data["engine"] = {"type": "asterisk", **section} if isinstance(section, dict) else section
    return [ConfigProblem(name, place.line, place.column, "asterisk",
                          "the 'asterisk:' section is now 'engine:': rename it and add "
                          "'type: asterisk' as its first key (read that way for now)",
                          "warning")], dict(RENAMED)  # fmt: skip


def _strategies(name: str, root: Node | None, data: dict[str, Any]) -> list[ConfigProblem]:
    queues = data.get("queues")
    if not isinstance(queues, dict):
        return []
    problems = []
    for qid, queue in queues.items():
        old = queue.get("strategy") if isinstance(queue, dict) else None
        if isinstance(old, str) and old in NEUTRAL_STRATEGY and old not in ASTERISK_STRATEGIES:
            new = NEUTRAL_STRATEGY[old]
            queue["strategy"] = new
            place = yamlmarks.locate(root, ("queues", qid, "strategy"))
            problems.append(ConfigProblem(
                name, place.line, place.column, f"queues.{qid}.strategy",
                f"{old!r} is Asterisk's name; write {new!r} (read that way for now)", "warning"))
    return problems
