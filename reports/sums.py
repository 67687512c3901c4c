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
        """SQL rows whose first ``nkeys`` columns are the group key, the rest named metrics.
        (``add`` inlined for a new group: a report adds a few hundred rows, most of them new
        groups, and this was a tenth of a warm day's CPU in the client.)"""
        names: tuple[str, ...] | None = None
        groups = self._groups
        sort_key = grp.sort_key
        for row in rows:
            if names is None:
                names = tuple(row._fields[nkeys:])
            values = tuple(row)
            key = values[:nkeys]
            sort = sort_key(key)
            if sort in groups:
                self.add(key, dict(zip(names, values[nkeys:], strict=True)))
            else:
                groups[sort] = (key, {name: value for name, value
                                      in zip(names, values[nkeys:], strict=True)
                                      if value is not None})

    def __iter__(self) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        return iter(self._groups.values())

    def ordered(self, grouping: grp.Grouping) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(key, m) for _, key, m in self.ordered_items(grouping)]

    def ordered_items(self, grouping: grp.Grouping
                      ) -> list[tuple[SortKey, tuple[Any, ...], dict[str, Any]]]:
        """The groups in ``grouping``'s order, each with its key as ``sort_key`` made it."""
        return sorted(((sort, key, m) for sort, (key, m) in self._groups.items()),
                      key=lambda skm: grouping.order(skm[1]))
