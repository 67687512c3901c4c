"""The blocks of hours a report reads the answered waits' counts from
(``reports.wait_counts.tiling``): aligned, disjoint, exactly the period's hours."""

from __future__ import annotations

import random

from clinicall.reports.wait_counts import tiling


def hours_of(ranges: list[tuple[int, int, int]]) -> list[int]:
    out: list[int] = []
    for span, lo, hi in ranges:
        assert lo % span == 0
        assert hi % span == 0
        assert lo < hi
        out += range(lo, hi)
    return sorted(out)


def test_the_blocks_tile_the_hours_exactly() -> None:
    rng = random.Random(16)
    for _ in range(2000):
        h0 = rng.randrange(493_000, 500_000)
        h1 = h0 + rng.choice([0, 1, 5, 23, 24, 25, 48, 200, 767, 768, 769, 2000, 8760])
        ranges = tiling(h0, h1)
        assert hours_of(ranges) == list(range(h0, h1))
        assert len(ranges) <= 5  # 32 days in the middle, days and hours on each side


def test_a_year_is_mostly_blocks_of_32_days() -> None:
    h0 = 490_894  # 2026-01-01 00:00 Kyiv (22:00 UTC the day before)
    ranges = tiling(h0, h0 + 8760)
    blocks = {span: sum((hi - lo) // span for s, lo, hi in ranges if s == span)
              for span in (1, 24, 768)}
    assert blocks[768] == 10
    assert sum(blocks.values()) == 78  # 10 of 32 days, 44 days, 24 hours


def test_a_local_day_has_no_whole_utc_day() -> None:
    assert tiling(490_894, 490_894 + 24) == [(1, 490_894, 490_918)]
