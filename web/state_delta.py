"""What changed between two pushed states, as a JSON merge patch (RFC 7386), so a wallboard or
dashboard socket gets the whole state once (``{"full": state}``) and after that only what
changed (``{"delta": patch}``).

A merge patch names each changed key with its new value, recursing into objects; a key that
went away is ``null``.  One extension: a list of objects that kept its length (the wallboard's
tiles, its operator rows) goes as ``{"$items": {"<index>": patch}}``, only the changed rows;
any other changed list goes whole.  So a ``None`` inside an object reads on
the page as the key being absent (the pages treat both alike).  ``APPLY_JS`` is the pages'
counterpart of :func:`apply_patch`.  docs/console.md, "Pushes".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The patch that turns ``old`` into ``new`` (empty when they are equal)."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key, _MISSING)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = merge_patch(before, value)
            if inner:
                patch[key] = inner
        elif _rows(before, value):
            items = {str(n): merge_patch(b, v) for n, (b, v) in enumerate(zip(before, value,
                                                                               strict=True))}
            items = {n: p for n, p in items.items() if p}
            if items:
                patch[key] = {ITEMS: items}
        elif before is _MISSING or before != value or type(before) is not type(value):
            patch[key] = dict(value) if isinstance(value, Mapping) else value
    for key in old:
        if key not in new:
            patch[key] = None
    return patch


def apply_patch(doc: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386's MergePatch: ``doc`` with ``patch`` applied (``doc`` is left as it was)."""
    out = dict(doc)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and set(value) == {ITEMS}:
            rows = list(out.get(key) or [])
            for n, row in value[ITEMS].items():
                rows[int(n)] = apply_patch(rows[int(n)], row)
            out[key] = rows
        elif isinstance(value, Mapping):
            before = out.get(key)
            out[key] = apply_patch(before if isinstance(before, Mapping) else {}, value)
        else:
            out[key] = value
    return out


def _rows(before: object, after: object) -> bool:
    """Two lists of objects of the same length: patched row by row."""
    return (isinstance(before, list) and isinstance(after, list) and len(before) == len(after)
            and all(isinstance(r, Mapping) for r in before)
            and all(isinstance(r, Mapping) for r in after))


_MISSING = object()
#: The key of a row-by-row list patch (no state has a key starting with "$").
ITEMS = "$items"

#: The pages' copy of :func:`apply_patch`: a function declaration, hoisted, so a script can
#: append it and call it from its socket's message handler.
APPLY_JS = """
function applyDelta(doc, patch) {
  const out = Object.assign({}, doc);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (typeof value === "object" && !Array.isArray(value) &&
             Object.keys(value).length === 1 && value["$items"] !== undefined) {
      const rows = (out[key] || []).slice();  // a list patched row by row
      for (const [n, row] of Object.entries(value["$items"])) rows[n] = applyDelta(rows[n], row);
      out[key] = rows;
    } else if (typeof value === "object" && !Array.isArray(value)) {
      const before = out[key];
      out[key] = applyDelta(before && typeof before === "object" && !Array.isArray(before)
        ? before : {}, value);
    } else out[key] = value;
  }
  return out;
}
function nextState(previous, message) {  // {"full": state} or {"delta": patch}
  return message.full !== undefined ? message.full : applyDelta(previous || {}, message.delta);
}
"""
