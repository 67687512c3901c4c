"""The pieces under the login: password hashes, signed cookies, the failed-login throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clinicall.web.auth_views import safe_next
from clinicall.web.cookies import SessionClaims, decode_session, encode_session
from clinicall.web.passwords import hash_password, new_api_token, token_digest, verify_password
from clinicall.web.throttle import LoginThrottle

SECRET = b"k" * 32
T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_password_hash_verifies_only_the_password() -> None:
    stored = hash_password("correct horse", n=2**10)
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("correct horse", stored.replace("scrypt$", "md5$"))
    assert not verify_password("correct horse", "garbage")
    assert hash_password("correct horse", n=2**10) != stored  # salted


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


def test_tokens_are_random_and_stored_as_digest() -> None:
    a, b = new_api_token(), new_api_token()
    assert a != b
    assert len(a) >= 40
    assert token_digest(a) == token_digest(a) != token_digest(b)
    assert a not in token_digest(a)


def test_cookie_round_trip_and_expiry() -> None:
    claims = SessionClaims(7, "manager", int(T0.timestamp()) + 60)
    value = encode_session(SECRET, claims)
    assert decode_session(SECRET, value, T0) == claims
    assert decode_session(SECRET, value, T0 + timedelta(seconds=60)) is None
    assert decode_session(b"o" * 32, value, T0) is None


@pytest.mark.parametrize("position", range(40))
def test_any_changed_character_breaks_the_cookie(position: int) -> None:
    value = encode_session(SECRET, SessionClaims(7, "manager", int(T0.timestamp()) + 60))
    i = position % len(value)
    changed = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]
    assert decode_session(SECRET, changed, T0) is None


@pytest.mark.parametrize("value", ["", "....", "1.manager.9", "x.manager.99999999999.sig",
                                   "1.manager.9.é", "1.a.b.c.d"])
def test_malformed_cookies_are_none(value: str) -> None:
    assert decode_session(SECRET, value, T0) is None


def test_throttle_blocks_after_five_failures_for_a_minute() -> None:
    throttle = LoginThrottle()
    for i in range(5):
        assert not throttle.blocked("Anna", T0 + timedelta(seconds=i))
        throttle.failed("Anna", T0 + timedelta(seconds=i))
    assert throttle.blocked("anna", T0 + timedelta(seconds=10))
    assert not throttle.blocked("boris", T0 + timedelta(seconds=10))
    assert throttle.blocked("anna", T0 + timedelta(seconds=59))
    assert not throttle.blocked("anna", T0 + timedelta(seconds=60))  # a sliding window: 4 left


def test_success_clears_the_failures() -> None:
    throttle = LoginThrottle(limit=2)
    throttle.failed("anna", T0)
    throttle.succeeded("anna")
    throttle.failed("anna", T0)
    assert not throttle.blocked("anna", T0)


@pytest.mark.parametrize(("given", "expected"), [
    (None, "/"), ("", "/"), ("/api/live", "/api/live"), ("//evil.example", "/"),
    ("https://evil.example", "/"), ("/\\evil", "/"), ("/a\nb", "/"),
])
def test_safe_next(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected
