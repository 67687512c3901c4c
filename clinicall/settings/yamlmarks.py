"""YAML parsed twice over the same nodes: plain data for pydantic, and node marks for lines.

PyYAML's composer keeps a start mark (line, column) on every node; walking the node tree
along a pydantic error ``loc`` gives the line of the key that is wrong, or of the nearest
parent that exists when the key is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
#: Most values (scalars, lists, mappings) a clinic config may hold: the example holds about
#: 650; 20,000 is thirty times that, and still composes in a fraction of a second.
MAX_NODES = 20_000

ALIASES_REFUSED = ("anchors and aliases (&name, *name) are not accepted in a clinic config: "
                   "write the values out")  # fmt: skip

#: libyaml when PyYAML has it (about 20 times faster); the same events, nodes and marks.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: base loader -> the same keeping bad dates as text (made once per base)
_KEEPING_BAD_DATES: dict[type[yaml.SafeLoader], type[yaml.SafeLoader]] = {}


def _keeping_bad_dates(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """``base``, except that a date not in the calendar (``2026-02-30``) stays text: PyYAML
    would raise a bare ValueError with no line; as text it reaches the model, which
    says where it is and what is wrong with it."""
    if base in _KEEPING_BAD_DATES:
        return _KEEPING_BAD_DATES[base]

    class Loader(base):  # type: ignore[valid-type,misc]  # a class chosen at run time
        def construct_yaml_timestamp(self, node: ScalarNode) -> object:
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:
                return self.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
    _KEEPING_BAD_DATES[base] = Loader
    return Loader


class RefusedYaml(yaml.MarkedYAMLError):
    """YAML that is valid but not accepted in a clinic config (aliases, deep nesting, too
    many values); ``path`` is where it is (the keys and list positions around it)."""

    def __init__(self, problem: str, mark: Any, path: Loc = ()) -> None:  # a C or Python Mark
        super().__init__(None, None, problem, mark)
        self.path = tuple(path)


def parse(text: str) -> tuple[object, Node | None]:
    """Return (data, root node); raises :class:`yaml.YAMLError` on a syntax error, and
    :class:`RefusedYaml` for anchors, aliases, too deep a nesting or too many values.

    The events are checked first, in one pass that stops at the first refusal, so any input
    is composed in time and memory proportional to its size: no alias bomb, no recursive
    alias, no RecursionError from a thousand nested brackets.
    """
    try:
        _check_events(text)
        loader = _keeping_bad_dates(_Loader)(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:
        raise _at_character(exc, text) from None
    return data, node


class _Frame:
    """One open mapping or list while the events are checked: where in it we are."""

    __slots__ = ("index", "is_map", "key", "key_next")

    def __init__(self, is_map: bool) -> None:
        self.is_map = is_map
        self.key_next = is_map  # a mapping's next node is a key
        self.key = ""
        self.index = 0

    def advance(self) -> None:
        """One node of this collection is complete."""
        if not self.is_map:
            self.index += 1
        elif self.key_next:  # a key that is itself a collection
            self.key, self.key_next = "?", False
        else:
            self.key_next = True


def _check_events(text: str) -> None:
    stack: list[_Frame] = []
    nodes = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            if stack:
                stack[-1].advance()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        nodes += 1
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            raise RefusedYaml(ALIASES_REFUSED, event.start_mark, _path(stack))
        if len(stack) >= MAX_DEPTH:
            raise RefusedYaml(f"nested more than {MAX_DEPTH} levels deep", event.start_mark,
                              _path(stack))  # fmt: skip
        if nodes > MAX_NODES:
            raise RefusedYaml(f"more than {MAX_NODES:,} values: not a clinic config",
                              event.start_mark, _path(stack))  # fmt: skip
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append(_Frame(isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, yaml.ScalarEvent) and stack and stack[-1].key_next:
            stack[-1].key, stack[-1].key_next = event.value[:KEY_CHARS], False
        elif stack:
            stack[-1].advance()


#: A refusal names at most this many keys around it, each cut to ``KEY_CHARS`` characters
#: (the line and column find the rest).
PATH_PARTS = 8
KEY_CHARS = 40


def _path(stack: list[_Frame]) -> tuple[str | int, ...]:
    """The keys (and the list position right after the last key) around the current node."""
    path: list[str | int] = []
    for frame in stack[:PATH_PARTS]:
        if frame.is_map:
            if frame.key_next:  # the node is a key: its mapping is the place
                break
            path.append(frame.key)
        elif not path or isinstance(path[-1], str):
            path.append(frame.index)
        else:  # lists in lists: one position is enough to find it
            break
    return tuple(path)


def _at_character(exc: yaml.reader.ReaderError, text: str) -> yaml.reader.ReaderError:
    """libyaml counts a reader error's position in UTF-8 bytes; the loader counts characters."""
    if _Loader is yaml.SafeLoader:
        return exc
    position = len(text.encode("utf-8")[: exc.position].decode("utf-8", "ignore"))
    return yaml.reader.ReaderError(exc.name, position, exc.character, exc.encoding, exc.reason)


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
