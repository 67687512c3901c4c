"""Every file access goes through Storage.resolve: names built from ids, nothing outside."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicall.recordings.storage import OutsideStorage, Spool, Storage, stored_name

WHEN = datetime(2026, 11, 24, 23, 59, tzinfo=UTC)


def test_stored_names_are_built_from_the_id_and_the_day() -> None:
    assert stored_name(42, WHEN, "orig", "ogg") == "2026/11/24/42.orig.ogg"
    assert stored_name(42, WHEN, "play", "opus") == "2026/11/24/42.play.opus"
    with pytest.raises(ValueError, match="not a stored file kind"):
        stored_name(42, WHEN, "../x", "ogg")
    with pytest.raises(ValueError, match="not a stored file kind"):
        stored_name(42, WHEN, "play", "og/g")


def test_a_stored_name_resolves_inside_the_root(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    assert storage.resolve("2026/11/24/42.play.opus") == tmp_path / "2026/11/24/42.play.opus"


@pytest.mark.parametrize("attempt", [
    "../etc/passwd", "2026/11/24/../../../../etc/passwd", "/etc/passwd",
    "2026/11/24/42.play.opus/..", "%2e%2e/etc/passwd", "2026\\11\\24\\42.play.opus",
    "2026/11/24/42.play.opus\x00.png", ".partial/42.play.opus", "", "2026/11/24/x.play.opus",
    "2026//11/24/42.play.opus",
])  # fmt: skip
def test_anything_else_is_refused(tmp_path: Path, attempt: str) -> None:
    with pytest.raises(OutsideStorage):
        Storage(tmp_path).resolve(attempt)


def test_a_symlink_in_the_root_is_refused_even_pointing_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "2026/11/24").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.write_text("not a recording")
    (root / "2026/11/24/7.play.opus").symlink_to(secret)
    (root / "2026/11/24/9.orig.ogg").write_bytes(b"x")
    (root / "2026/11/24/8.play.opus").symlink_to(root / "2026/11/24/9.orig.ogg")
    os.symlink(tmp_path, root / "2026/11/25")
    storage = Storage(root)
    for linked in ("2026/11/24/7.play.opus", "2026/11/24/8.play.opus", "2026/11/25/9.orig.ogg"):
        with pytest.raises(OutsideStorage):
            storage.resolve(linked)
    assert storage.resolve("2026/11/24/9.orig.ogg").read_bytes() == b"x"


def test_the_spool_takes_layout_paths_but_nothing_outside(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    assert spool.resolve("2026/11/24/1764840000.7.ogg") == tmp_path / "2026/11/24/1764840000.7.ogg"
    for attempt in ("../x.ogg", "/etc/passwd", "2026/../../x.ogg"):
        with pytest.raises(OutsideStorage):
            spool.resolve(attempt)
