"""Patients' phone numbers are personal health data: logs show only their last digits."""

from __future__ import annotations


def mask_number(number: str | None, *, keep: int = 3) -> str:
    """``+380501234567`` → ``***567``: enough to tell calls apart in a log, not to dial.

    Short strings (extensions, 'anonymous') are masked the same way; '' stays ''.
    """
    if not number:
        return ""
    digits = number.strip()
    return "***" + digits[-keep:] if len(digits) > keep else "***"
