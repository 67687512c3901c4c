"""Counters per report group, added up from several partial results.

A report's numbers come from the hourly sums of whole hours and from the rows of the minutes
at a period's edges (``reports.rollup``); clinic-level rows also feed two sections grouped
differently.  ``Sums`` adds such partial rows by group key: counters and sums add up, columns
named ``*_max`` keep the largest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from clinicall.reports import grouping as grp

SortKey = tuple[tuple[int, Any], ...]


class Sums:
    def __init__(self) -> None:
        self._groups: dict[SortKey, tuple[tuple[Any, ...], dict[str, Any]]] = {}

    def add(self, key: Sequence[Any], metrics: Mapping[str, Any]) -> None:
        _, into = self._groups.setdefault(grp.sort_key(key), (tuple(key), {}))
        for name, value in metrics.items():
            if value is None:
                continue
            if name.endswith("_max"):
                into[name] = max(into.get(name, value), value)
            else:
                into[name] = into.get(name, 0) + value

    def add_rows(self, rows: Iterable[Any], nkeys: int) -> None:
        """SQL rows whose first ``nkeys`` columns are the group key, the rest named metrics.

        The common case, a group not seen before, stores the row's values as they are; only
        a group met again is added up by name (:meth:`add`)."""
        names: list[str] | None = None
        for row in rows:
            if names is None:
                names = list(row._fields[nkeys:])
            key = tuple(row[:nkeys])
            sort = grp.sort_key(key)
            if sort in self._groups:
                self.add(key, dict(zip(names, row[nkeys:], strict=True)))
            else:
                self._groups[sort] = (key, {name: value for name, value
                                            in zip(names, row[nkeys:], strict=True)
                                            if value is not None})

    def __iter__(self) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        return iter(self._groups.values())

    def ordered(self, grouping: grp.Grouping) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return sorted(self._groups.values(), key=lambda km: grouping.order(km[0]))
