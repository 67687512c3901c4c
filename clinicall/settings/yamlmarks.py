"""YAML parsed twice over the same nodes: plain data for pydantic, and node marks for lines.

PyYAML's composer keeps a start mark (line, column) on every node; walking the node tree
along a pydantic error ``loc`` gives the line of the key that is wrong, or of the nearest
parent that exists when the key is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = Sequence[str | int]

#: Element that pydantic adds to a ``loc`` when the dict key itself is invalid.
KEY_MARKER = "[key]"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a ``loc`` lands: the line/column (1-based) and how much of the loc exists."""

    line: int
    column: int
    found: tuple[str | int, ...]  # the prefix of loc that exists in the file
    complete: bool  # the whole loc exists


#: Deepest nesting of mappings and lists a clinic config may use (it needs about 8).
MAX_DEPTH = 32


class RefusedYaml(yaml.MarkedYAMLError):
    """YAML that is valid but not accepted in a clinic config (aliases, deep nesting)."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases and nesting deeper than ``MAX_DEPTH``, so any
    input is composed in time and memory proportional to its size: no alias bomb, no
    recursive alias, no RecursionError from a thousand nested brackets."""

    depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise RefusedYaml(None, None, "anchors and aliases (&name, *name) are not "
                              "accepted in a clinic config: write the values out",
                              event.start_mark)  # fmt: skip
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise RefusedYaml(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                  event.start_mark)  # fmt: skip
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse(text: str) -> tuple[object, Node | None]:
    """Return (data, root node); raises :class:`yaml.YAMLError` on a syntax error, and
    :class:`RefusedYaml` for anchors, aliases or too deep a nesting."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def locate(root: Node | None, loc: Loc) -> Place:
    """Find the node for ``loc``; skip pydantic's union tags such as ``'dict[...]'``."""
    if root is None:
        return Place(0, 0, (), not loc)
    mark = root.start_mark
    node: Node = root
    found: list[str | int] = []
    for part in loc:
        if part == KEY_MARKER:
            break
        child = _child(node, part)
        if child is None:
            if isinstance(part, str) and is_type_tag(part):
                continue
            return Place(mark.line + 1, mark.column + 1, tuple(found), False)
        key_mark, node = child
        mark = key_mark
        found.append(part)
    return Place(mark.line + 1, mark.column + 1, tuple(found), True)


def duplicate_keys(root: Node | None) -> list[tuple[tuple[str | int, ...], int, int]]:
    """Keys given twice in one mapping (PyYAML silently keeps the last): (loc, line, column)."""
    out: list[tuple[tuple[str | int, ...], int, int]] = []

    def walk(node: Node, path: tuple[str | int, ...]) -> None:
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = key.value if isinstance(key, ScalarNode) else str(key.start_mark)
                if name in seen:
                    out.append(((*path, name), key.start_mark.line + 1, key.start_mark.column + 1))
                seen.add(name)
                walk(value, (*path, name))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return out


def _child(node: Node, part: str | int) -> tuple[yaml.Mark, Node] | None:
    if isinstance(node, MappingNode):
        for key, value in reversed(node.value):  # the last duplicate is the one that counts
            if isinstance(key, ScalarNode) and key.value == str(part):
                return key.start_mark, value
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item.start_mark, item
    return None


def is_type_tag(part: str) -> bool:
    """pydantic names union members in a loc (``'str'``, ``'function-after[...]'``)."""
    return "[" in part or part in {"str", "int", "float", "bool", "none", "constrained-str"}
