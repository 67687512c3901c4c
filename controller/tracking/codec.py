"""Facts in and out of the journal: one versioned kind per fact class, JSON payloads.

A fact is journaled as ``kind`` = its ``KIND`` and a payload of its fields (``key`` and ``at``
have columns of their own) plus ``"v"``, the class's ``VERSION``.  Decoding reads the payload
back into the same frozen value, so the projector works on facts, never on dicts.  A row whose
kind is not a fact kind (the IVR's own account, or a kind written by a newer version) decodes
to None and is left to whoever knows it.

When a fact class changes shape, bump its ``VERSION`` and teach :func:`decode` the old one
here, next to the class list; journals are append-only and are never rewritten in place.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from clinicall.controller import facts as f

_BY_KIND: dict[str, type[f.Fact]] = {cls.KIND: cls for cls in f.FACT_TYPES}
_SKIPPED = ("key", "at")


def _enum_fields(cls: type[f.Fact]) -> dict[str, type[Enum]]:
    """The fields of ``cls`` typed with an enum (optional or not), to decode them back."""
    found: dict[str, type[Enum]] = {}
    for name, hint in typing.get_type_hints(cls, vars(f)).items():
        for arg in (hint, *typing.get_args(hint)):
            if isinstance(arg, type) and issubclass(arg, Enum):
                found[name] = arg
    return found


_ENUMS = {cls: _enum_fields(cls) for cls in f.FACT_TYPES}
_FIELDS = {
    cls: tuple(fl.name for fl in dataclasses.fields(cls) if fl.name not in _SKIPPED)
    for cls in f.FACT_TYPES
}


def encode(fact: f.Fact) -> dict[str, Any]:
    """The payload of ``fact`` (JSON-able: enums as their values)."""
    payload: dict[str, Any] = {"v": fact.VERSION}
    for name in _FIELDS[type(fact)]:
        value = getattr(fact, name)
        payload[name] = value.value if isinstance(value, Enum) else value
    return payload


def decode(kind: str, key: str, at: datetime, payload: Mapping[str, Any]) -> f.AnyFact | None:
    """The fact a journal row holds; None when ``kind`` is not a fact kind of this version.

    Raises ValueError when the payload does not fit its kind (a corrupt row)."""
    cls = _BY_KIND.get(kind)
    if cls is None or payload.get("v") != cls.VERSION:
        return None
    enums = _ENUMS[cls]
    values: dict[str, Any] = {}
    for name in _FIELDS[cls]:
        if name not in payload:
            continue  # a field with a default, journaled before it existed
        value = payload[name]
        if name in enums and value is not None:
            value = enums[name](value)
        values[name] = value
    try:
        return typing.cast(f.AnyFact, cls(key=key, at=at, **values))
    except TypeError as error:
        raise ValueError(f"journal row {key!r} of kind {kind!r}: {error}") from None
