"""Byte-range choice on header strings (RFC 9110 section 14)."""

from __future__ import annotations

import pytest

from clinicall.web.byte_ranges import Choice, Part, Unsatisfiable, choose

ETAG = '"7-1000-abc"'
MODIFIED = "Tue, 24 Nov 2026 09:30:00 GMT"


def pick(header: str | None, if_range: str | None = None, size: int = 1000) -> Choice:
    return choose(header, if_range, size=size, etag=ETAG, last_modified=MODIFIED)


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-99", Part(0, 99)),
    ("bytes=100-", Part(100, 999)),
    ("bytes=-100", Part(900, 999)),
    ("bytes=-5000", Part(0, 999)),
    ("bytes=990-5000", Part(990, 999)),
    ("bytes=999-999", Part(999, 999)),
    ("bytes=1000-", Unsatisfiable()),
    ("bytes=1000-1100", Unsatisfiable()),
    ("bytes=-0", Unsatisfiable()),
    ("bytes=5-1", None),  # invalid: ignored
    ("bytes=0-1,5-9", None),  # several: the whole file
    ("items=0-1", None),
    ("bytes=abc", None),
    ("bytes=-", None),
])  # fmt: skip
def test_range_header(header: str | None, expected: Choice) -> None:
    assert pick(header) == expected


def test_empty_file_has_no_satisfiable_range() -> None:
    assert pick("bytes=0-", size=0) == Unsatisfiable()
    assert pick("bytes=-1", size=0) == Unsatisfiable()


def test_if_range_with_the_current_validator_keeps_the_range() -> None:
    assert pick("bytes=0-9", ETAG) == Part(0, 9)
    assert pick("bytes=0-9", MODIFIED) == Part(0, 9)


@pytest.mark.parametrize("stale", ['"7-999-abc"', f"W/{ETAG}", "Mon, 23 Nov 2026 09:30:00 GMT",
                                   "garbage"])
def test_if_range_with_another_validator_gives_the_whole_file(stale: str) -> None:
    assert pick("bytes=0-9", stale) is None


def test_content_range_values() -> None:
    assert Part(0, 99).content_range(1000) == "bytes 0-99/1000"
    assert Part(0, 99).length == 100
    assert Unsatisfiable().content_range(1000) == "bytes */1000"
