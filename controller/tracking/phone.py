"""Caller numbers to E.164, and masking them for logs.

Patients' numbers are personal data: :func:`mask` is the only form a number may take in a log.
Normalization is deliberately small (no numbering-plan database): an international form is
kept, a national form (trunk prefix, e.g. ``0`` in Ukraine) gets the clinic's country code,
and anything else (an internal extension, "anonymous") is kept as given.
"""

from __future__ import annotations

E164_MIN_DIGITS = 8
E164_MAX_DIGITS = 15
_PUNCTUATION = str.maketrans("", "", " -().")


def to_e164(raw: str, *, country_code: str, trunk_prefix: str = "0") -> str | None:
    """``raw`` as E.164 (``+380501234567``) when it looks like a phone number, else as given.

    None for an empty or hidden number.  ``country_code`` is digits without '+' ("" = unknown:
    national numbers are then kept as given).
    """
    text = raw.strip().translate(_PUNCTUATION)
    if not text or text.lower() in ("anonymous", "unknown", "<unknown>"):
        return None
    if text.startswith("+"):
        return text if _plausible(text[1:]) else raw.strip()
    if not text.isdigit():
        return raw.strip()
    if text.startswith("00") and _plausible(text[2:]):
        return "+" + text[2:]
    if country_code and text.startswith(country_code) and _plausible(text):
        return "+" + text
    if country_code and trunk_prefix and text.startswith(trunk_prefix):
        national = text[len(trunk_prefix) :]
        if _plausible(country_code + national) and not national.startswith(trunk_prefix):
            return "+" + country_code + national
    return text


def _plausible(digits: str) -> bool:
    return digits.isdigit() and E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS


def mask(number: str | None) -> str:
    """All but the last 3 characters hidden: ``+380501234567`` → ``…567``."""
    if not number:
        return "-"
    return "…" + number[-3:] if len(number) > 3 else "…"
