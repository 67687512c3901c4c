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
        sort = grp.sort_key(key)
        found = self._groups.get(sort)
        if found is None:  # a new group: its values as they are
            self._groups[sort] = (tuple(key), {name: value for name, value in metrics.items()
                                               if value is not None})
            return
        into = found[1]
        for name, value in metrics.items():
            if value is None:
                continue
            before = into.get(name)
            if before is None:
                into[name] = value
            elif name.endswith("_max"):
                into[name] = max(before, value)
            else:
                into[name] = before + value

    def add_rows(self, rows: Iterable[Any], nkeys: int) -> None:
        """SQL rows whose first ``nkeys`` columns are the group key, the rest named metrics."""
        names: list[str] | None = None
        for row in rows:
            if names is None:
                names = list(row._fields[nkeys:])
            self.add(row[:nkeys], dict(zip(names, row[nkeys:], strict=True)))

    def __iter__(self) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        return iter(self._groups.values())

    def ordered(self, grouping: grp.Grouping) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return sorted(self._groups.values(), key=lambda km: grouping.order(km[0]))
