"""pydantic's error records turned into sentences that say what is expected.

pydantic's own wording ("Input should be a valid integer, unable to parse string as an
integer") is written for programmers; a clinic administrator editing YAML needs "expected a
whole number of seconds, got 'abc'", and for a typo, the key that was probably meant.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from clinicall.settings.yamlmarks import Loc

_PATTERNS = {
    r"^[a-z][a-z0-9_]{0,39}$": "an id: lower-case latin letters, digits and '_', "
    "starting with a letter (at most 40)",
    r"^\+[1-9][0-9]{7,14}$": "a phone number in E.164 form, such as '+380441234567' (quoted)",
    r"^[0-9*#]$": "a single key: 0-9, * or #",
    r"^(hours|address|service:[a-z][a-z0-9_]*)$": "'hours', 'address' or 'service:<service id>'",
    r"^[1-9][0-9]{0,2}$": "a country calling code: 1 to 3 digits without '+', such as '380' "
    "(quoted)",
    r"^\+[1-9][0-9]{0,14}$": "the start of a phone number in E.164 form, such as '+380900' "
    "(quoted)",
}


def describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """One sentence for one pydantic error at ``error['loc']`` inside ``model``."""
    kind, loc, value = error["type"], error["loc"], error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    field = _last_name(loc)
    got = f", got {_show(value)}"
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), model, loc[:-1])
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"expected a whole number{_unit(field)}{got}"
    if kind in {"float_parsing", "float_type"}:
        return f"expected a number{_unit(field)}{got}"
    if kind in {"bool_parsing", "bool_type"}:
        return f"expected true or false{got}"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        bound = next(iter(ctx.values()), "?")
        return f"expected {words} {bound}{_unit(field)}{got}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return f"expected {_PATTERNS.get(pattern, 'text matching ' + pattern)}{got}"
    if kind == "string_too_short":
        return f"expected at least {ctx.get('min_length')} characters{got}"
    if kind == "string_type":
        hint = " (put it in quotes)" if isinstance(value, int | float | bool) else ""
        return f"expected text{got}{hint}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}{got}"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        expected = str(ctx.get("expected_tags", "")).replace("'", "").split(", ")
        tag = str(ctx.get("tag", ""))
        close = difflib.get_close_matches(tag, expected, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if kind == "union_tag_not_found":
            return f"missing 'type:' (one of {', '.join(_union_tags(model, loc))})"
        return f"unknown type {tag!r}: expected one of {', '.join(expected)}{hint}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"expected a mapping of 'key: value' lines{got}"
    if kind == "list_type":
        return f"expected a list{got}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got none"
    if kind in {"date_parsing", "date_type", "date_from_datetime_parsing"}:
        return _no_such_date(value) or f"expected a date as YYYY-MM-DD{got}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{error['msg']}{got}"


def _no_such_date(value: object) -> str | None:
    """For a well-formed date that is not in the calendar (``2026-02-30``): why, in words."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        return f"there is no date {value!r} ({exc}); expected YYYY-MM-DD"
    return None


def _unknown_key(key: str, model: type[BaseModel], parent: Loc) -> str:
    allowed = allowed_keys(model, parent)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
    if not close:  # 'ringtime' -> 'ring_s': compare the word before the unit suffix too
        stems = {a.rsplit("_", 1)[0]: a for a in allowed if "_" in a}
        close = [stems[s] for s in difflib.get_close_matches(key, list(stems), n=1, cutoff=0.5)]
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; expected one of {', '.join(sorted(allowed))}"


def allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model found by following ``loc`` through the type hints."""
    hint: object = model
    for part in loc:
        hint = _step(hint, part)
    hint = _unwrap(hint)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return list(hint.model_fields)
    return []


def _step(hint: object, part: str | int) -> object:
    hint = _unwrap(hint)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        info = hint.model_fields.get(str(part))
        return info.annotation if info else None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _unwrap(hint: object) -> object:
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            hint = typing.get_args(hint)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(hint) if a is not type(None)]
            hint = members[0] if len(members) == 1 else hint
            if len(members) != 1:
                return hint
        else:
            return hint


def _last_name(loc: Loc) -> str:
    names = [p for p in loc if isinstance(p, str)]
    return names[-1] if names else ""


def _unit(field: str) -> str:
    if field.endswith("_s"):
        return " of seconds"
    if field.endswith("_min"):
        return " of minutes"
    return ""


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return _excerpt(value)
    return str(value)


#: How much of a wrong value a message repeats (the file is there for the rest).
SHOWN_CHARS = 60


def _excerpt(value: str) -> str:
    if len(value) <= SHOWN_CHARS:
        return repr(value)
    return f"{value[:SHOWN_CHARS]!r}... ({len(value):,} characters)"


def _union_tags(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The ``type`` values a tagged union field at ``loc`` (a top-level field) accepts."""
    field = model.model_fields.get(str(loc[0])) if loc else None
    members = typing.get_args(field.annotation) if field is not None else ()
    tags = []
    for member in members:
        tag = getattr(member, "model_fields", {}).get("type")
        tags += [str(t) for t in typing.get_args(tag.annotation)] if tag is not None else []
    return tags
