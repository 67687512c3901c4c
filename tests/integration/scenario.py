"""What the real-Asterisk tests share: the example clinic, its English number, and a clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
ENGLISH_NUMBER = "+380441234568"  # fixes the language: no language menu
TUESDAY_10_KYIV = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # the clinic is open
SUNDAY_10_KYIV = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # the clinic is closed


class Clock:
    """The controller's clock for opening hours, moved by a test (the account keeps real time)."""

    def __init__(self) -> None:
        self.at = TUESDAY_10_KYIV

    def __call__(self) -> datetime:
        return self.at
