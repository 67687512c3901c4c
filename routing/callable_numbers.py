"""Whether the clinic may call a number back, and the number to dial.

A callback dials a number the patient called from or typed, so it must be a real subscriber
number: E.164 after normalization, in a country the clinic calls, and outside the ranges the
clinic refuses (premium-rate, audiotex: ``callbacks.numbers``).  Emergency and other service
numbers (``112``, ``103``, ``1551``) are short, so they are never E.164 and never called.

The normalizer is deliberately small and lives here because ``routing`` may not import the
call account (docs/architecture.md, "Layers"): the account has its own for caller ids
(``controller/tracking/phone.py``); both accept the same forms, and a later change may move
one normalizer into a leaf both layers import.  Forms accepted: ``+<digits>``, ``00<digits>``
(international prefix), ``<country code><digits>``, and ``<trunk prefix><national digits>``
completed with the clinic's country code; spaces, dashes, dots and brackets are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: E.164 allows at most 15 digits; fewer than 8 is a short (service or emergency) number.
MIN_DIGITS = 8
MAX_DIGITS = 15
_IGNORED = frozenset(" -.()\t")


class Refusal(StrEnum):
    """Why a number is not called back (stored and shown, never spoken as the number)."""

    HIDDEN = "hidden"  # no number: anonymous, withheld, empty
    NOT_A_NUMBER = "not_a_number"  # letters, an extension, too long
    SHORT = "short"  # emergency, service or other short number
    COUNTRY = "country"  # a country the clinic does not call
    BLOCKED = "blocked"  # a refused range (premium-rate, audiotex)


@dataclass(frozen=True, slots=True)
class NumberCheck:
    """The verdict on one number: ``e164`` to dial, or ``refusal``."""

    e164: str | None
    refusal: Refusal | None

    @property
    def callable(self) -> bool:
        return self.refusal is None


def normalize(raw: str, *, country_code: str, trunk_prefix: str = "0") -> str | None:
    """``raw`` as ``+<digits>`` when it is written in one of the accepted forms, else None.

    The length is checked by :func:`check_number`, which tells a short number from a
    malformed one.  ``country_code``: the clinic's, digits without '+' ("" = national forms
    cannot be completed).
    """
    text = "".join(ch for ch in raw.strip() if ch not in _IGNORED)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isdigit() or not digits.isascii():
        return None
    if plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if trunk_prefix and digits.startswith(trunk_prefix) and country_code:
        return "+" + country_code + digits[len(trunk_prefix):]
    if country_code and digits.startswith(country_code) and len(digits) >= MIN_DIGITS:
        return "+" + digits
    return None


def check_number(
    raw: str | None,
    *,
    country_code: str,
    countries: frozenset[str],
    blocked_prefixes: tuple[str, ...],
    trunk_prefix: str = "0",
) -> NumberCheck:
    """Whether ``raw`` may be called back (docs/callbacks.md, "Callable numbers").

    ``countries``: the country codes the clinic calls (empty: any); ``blocked_prefixes``: E.164
    prefixes it refuses.  A short number is refused as :attr:`Refusal.SHORT` whatever form it
    was written in.
    """
    if raw is None or not raw.strip() or raw.strip().lower() in {"anonymous", "unknown",
                                                                   "restricted", "<unknown>"}:
        return NumberCheck(None, Refusal.HIDDEN)
    bare = "".join(ch for ch in raw.strip() if ch not in _IGNORED).removeprefix("+")
    if bare.isascii() and bare.isdigit() and len(bare) < MIN_DIGITS:
        return NumberCheck(None, Refusal.SHORT)
    number = normalize(raw, country_code=country_code, trunk_prefix=trunk_prefix)
    if number is None or len(number) - 1 > MAX_DIGITS or number[1] == "0":
        return NumberCheck(None, Refusal.NOT_A_NUMBER)
    if len(number) - 1 < MIN_DIGITS:
        return NumberCheck(None, Refusal.SHORT)
    if countries and not any(number.startswith("+" + code) for code in countries):
        return NumberCheck(None, Refusal.COUNTRY)
    if any(number.startswith(prefix) for prefix in blocked_prefixes):
        return NumberCheck(None, Refusal.BLOCKED)
    return NumberCheck(number, None)
