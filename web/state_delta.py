"""What changed between two pushed states, as a JSON merge patch (RFC 7386), so a wallboard or
dashboard socket gets the whole state once (``{"full": state}``) and after that only what
changed (``{"delta": patch}``).

A merge patch names each changed key with its new value, recursing into objects; a list that
changed goes whole; a key that went away is ``null``.  So a ``None`` inside an object reads on
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
        elif isinstance(value, Mapping):
            before = out.get(key)
            out[key] = apply_patch(before if isinstance(before, Mapping) else {}, value)
        else:
            out[key] = value
    return out


_MISSING = object()

#: The pages' copy of :func:`apply_patch`: a function declaration, hoisted, so a script can
#: append it and call it from its socket's message handler.
APPLY_JS = """
function applyDelta(doc, patch) {
  const out = Object.assign({}, doc);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (typeof value === "object" && !Array.isArray(value)) {
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
