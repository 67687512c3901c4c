"""Which numbers a callback may dial: E.164 after normalization, no short or refused ones."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from clinicall.routing.callable_numbers import NumberCheck, Refusal, check_number, normalize
from clinicall.routing.patient_time import COUNTRY_ZONES, patient_zone

BLOCKED = ("+380700", "+380900")


def check(raw: str | None, countries: frozenset[str] = frozenset()) -> NumberCheck:
    return check_number(raw, country_code="380", countries=countries, blocked_prefixes=BLOCKED)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+380501234567", "+380501234567"),
        ("+38 (050) 123-45-67", "+380501234567"),
        ("00380501234567", "+380501234567"),
        ("380501234567", "+380501234567"),
        ("0501234567", "+380501234567"),
        ("050.123.45.67", "+380501234567"),
        ("0048221234567", "+48221234567"),
        ("+48 22 123 45 67", "+48221234567"),
    ],
)
def test_accepted_forms_normalize_to_e164(raw: str, expected: str) -> None:
    assert normalize(raw, country_code="380") == expected
    assert check(raw) == NumberCheck(expected, None)


@pytest.mark.parametrize("raw", ["abc", "101a", "4915112345678", "+", "", "٠٥٠١٢٣٤٥٦٧٨"])
def test_what_is_not_written_as_a_number_does_not_normalize(raw: str) -> None:
    assert normalize(raw, country_code="380") is None


def test_a_national_number_needs_the_clinic_country_code() -> None:
    assert normalize("0501234567", country_code="") is None
    assert check_number("0501234567", country_code="", countries=frozenset(),
                        blocked_prefixes=()).refusal == Refusal.NOT_A_NUMBER


@pytest.mark.parametrize("raw", [None, "", "  ", "anonymous", "Unknown", "restricted"])
def test_a_hidden_number_is_refused_as_hidden(raw: str | None) -> None:
    assert check(raw) == NumberCheck(None, Refusal.HIDDEN)


@pytest.mark.parametrize("raw", ["112", "103", "911", "1551", "+112", "0800", "101"])
def test_emergency_and_service_numbers_are_short(raw: str) -> None:
    assert check(raw) == NumberCheck(None, Refusal.SHORT)


@pytest.mark.parametrize("raw", ["+3805012345678901", "+0501234567", "200", "ext 201",
                                 "1234567890"])
def test_malformed_or_too_long_numbers_are_refused(raw: str) -> None:
    verdict = check(raw)
    assert not verdict.callable
    assert verdict.refusal in {Refusal.NOT_A_NUMBER, Refusal.SHORT}


def test_too_long_is_not_a_number_and_exactly_fifteen_digits_is_fine() -> None:
    assert check("+3805012345678901").refusal == Refusal.NOT_A_NUMBER
    assert check("+380501234567890").callable


@pytest.mark.parametrize("raw", ["0900123456", "+380 700 123 456", "00380900111222"])
def test_premium_rate_ranges_are_blocked(raw: str) -> None:
    assert check(raw) == NumberCheck(None, Refusal.BLOCKED)


def test_country_list_limits_where_the_clinic_calls() -> None:
    ukraine_and_poland = frozenset({"380", "48"})
    assert check("+48221234567", ukraine_and_poland).callable
    assert check("0501234567", ukraine_and_poland).callable
    assert check("+4930123456", ukraine_and_poland) == NumberCheck(None, Refusal.COUNTRY)
    assert check("+4930123456").callable  # empty list: any country


def test_patient_zone_from_the_country_code() -> None:
    clinic = ZoneInfo("Europe/Kyiv")
    assert patient_zone("+48221234567", clinic) == ZoneInfo("Europe/Warsaw")
    assert patient_zone("+353861234567", clinic) == ZoneInfo("Europe/Dublin")
    assert patient_zone("+380501234567", ZoneInfo("UTC")) == ZoneInfo("Europe/Kyiv")


@pytest.mark.parametrize("number", ["+12125551234", "+74951234567", "+8613812345678"])
def test_multi_zone_or_unknown_countries_get_the_clinic_zone(number: str) -> None:
    clinic = ZoneInfo("Europe/Kyiv")
    assert patient_zone(number, clinic) is clinic


def test_every_table_zone_exists_and_codes_are_prefix_free() -> None:
    for code, name in COUNTRY_ZONES.items():
        ZoneInfo(name)
        assert not any(other != code and other.startswith(code) for other in COUNTRY_ZONES)
