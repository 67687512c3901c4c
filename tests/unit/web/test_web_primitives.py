"""The pieces under the login: password hashes, the login form's CSRF token, the Origin
check, the failed-login throttle."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import make_mocked_request

from clinicall.web.auth_views import safe_next
from clinicall.web.csrf import genuine_login_token, new_login_token, same_site
from clinicall.web.passwords import (
    DEFAULT_COST,
    PasswordCost,
    hash_password,
    needs_rehash,
    new_api_token,
    token_digest,
    verify_password,
)
from clinicall.web.throttle import FailureTable, LoginThrottle

SECRET = b"k" * 32
T0 = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
FAST = PasswordCost(time_cost=1, memory_kib=1024, parallelism=1)


def scrypt_hash(password: str, salt: bytes = b"0123456789abcdef", n: int = 2**10) -> str:
    """A hash in the former scheme (``scrypt$n$r$p$salt$key``), as older stores hold them."""
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def test_password_hash_is_argon2id_and_verifies_only_the_password() -> None:
    stored = hash_password("correct horse", cost=FAST)
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("correct horse", stored.replace("argon2id", "argon2i"))
    assert not verify_password("correct horse", "garbage")
    assert hash_password("correct horse", cost=FAST) != stored  # salted


def test_the_former_scrypt_hashes_still_verify_and_need_a_rehash() -> None:
    stored = scrypt_hash("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("correct horse", stored.replace("scrypt$", "md5$"))
    assert not verify_password("correct horse", stored.replace("$1024$", "$1073741824$"))
    assert needs_rehash(stored, FAST)


def test_a_weaker_argon2_hash_needs_a_rehash_and_a_current_one_does_not() -> None:
    assert needs_rehash(hash_password("pw", cost=FAST), DEFAULT_COST)
    assert not needs_rehash(hash_password("pw", cost=FAST), FAST)
    assert needs_rehash("$argon2id$garbage", FAST)


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


def test_tokens_are_random_and_stored_as_digest() -> None:
    a, b = new_api_token(), new_api_token()
    assert a != b
    assert len(a) >= 40
    assert token_digest(a) == token_digest(a) != token_digest(b)
    assert a not in token_digest(a)


def test_login_token_is_genuine_only_with_its_secret() -> None:
    token = new_login_token(SECRET)
    assert genuine_login_token(SECRET, token)
    assert not genuine_login_token(b"o" * 32, token)
    assert new_login_token(SECRET) != token
    nonce, _, signature = token.partition(".")
    for forged in ("", nonce, f"{nonce}.", f"x{nonce}.{signature}", f"{nonce}.{signature}x",
                   f"{nonce}.é"):
        assert not genuine_login_token(SECRET, forged), forged


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, True),
    ({"Origin": "http://clinic.example:8080"}, True),
    ({"Origin": "https://CLINIC.example:8080"}, True),
    ({"Referer": "http://clinic.example:8080/login?next=/"}, True),
    ({"Origin": "http://evil.example:8080"}, False),
    ({"Origin": "http://clinic.example"}, False),  # another port is another site
    ({"Origin": "http://clinic.example.evil.example:8080"}, False),
    ({"Origin": "null"}, False),
    ({"Origin": "http://evil.example", "Referer": "http://clinic.example:8080/"}, False),
    ({"Referer": "http://evil.example/x"}, False),
    ({"Origin": "http://[::1"}, False),
    ({"Origin": "ftp://clinic.example:8080"}, False),
])
def test_same_site_compares_origin_with_the_host(headers: dict[str, str],
                                                 expected: bool) -> None:
    request = make_mocked_request("POST", "/logout",
                                  headers={"Host": "clinic.example:8080", **headers})
    assert same_site(request) is expected


def test_throttle_locks_an_address_and_name_after_five_failures_for_a_minute() -> None:
    throttle = LoginThrottle()
    for i in range(5):
        assert throttle.wait("10.0.0.1", "Anna", T0 + timedelta(seconds=i)) is None
        throttle.failed("10.0.0.1", "Anna", T0 + timedelta(seconds=i))
    assert throttle.wait("10.0.0.1", "anna", T0 + timedelta(seconds=10)) == 50
    assert throttle.wait("10.0.0.1", "boris", T0 + timedelta(seconds=10)) is None
    assert throttle.wait("10.0.0.2", "anna", T0 + timedelta(seconds=10)) is None  # a fresh address
    assert throttle.wait("10.0.0.1", "anna", T0 + timedelta(seconds=59, milliseconds=1)) == 1
    assert throttle.wait("10.0.0.1", "anna", T0 + timedelta(seconds=60)) is None


def test_throttle_locks_an_address_guessing_many_names() -> None:
    throttle = LoginThrottle(address_limit=3)
    for name in ("a", "b", "c"):
        throttle.failed("10.0.0.1", name, T0)
    assert throttle.wait("10.0.0.1", "d", T0) == 600
    assert throttle.wait("10.0.0.2", "d", T0) is None


def test_the_name_lock_holds_only_addresses_that_failed_for_the_name() -> None:
    throttle = LoginThrottle(name_limit=3, pair_limit=100)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        throttle.failed(address, "anna", T0)
    assert throttle.wait("10.0.0.1", "anna", T0) == 600
    assert throttle.wait("10.0.0.9", "anna", T0) is None  # the real user, elsewhere
    throttle.failed("10.0.0.9", "anna", T0)
    assert throttle.wait("10.0.0.9", "anna", T0) == 600  # one guess from a fresh address, then held


def test_success_clears_only_its_own_address_and_name() -> None:
    throttle = LoginThrottle(pair_limit=2, name_limit=3)
    throttle.failed("10.0.0.1", "anna", T0)
    throttle.failed("10.0.0.1", "anna", T0)
    throttle.failed("10.0.0.2", "anna", T0)
    throttle.failed("10.0.0.2", "anna", T0)
    throttle.succeeded("10.0.0.2", "anna")
    assert throttle.wait("10.0.0.2", "anna", T0) is None
    assert throttle.wait("10.0.0.1", "anna", T0) == 600  # the name lock stays for 10.0.0.1


def test_failure_table_is_bounded_and_forgets_expired_windows() -> None:
    table: FailureTable[str] = FailureTable(limit=1, window=timedelta(minutes=1), max_keys=100)
    for i in range(1000):
        table.add(f"name{i}", T0)
    assert len(table) == 100
    assert table.wait("name999", T0) == 60.0
    assert table.wait("name0", T0) is None  # evicted: the least recently failed
    table.add("late", T0 + timedelta(minutes=1))
    assert len(table) == 1  # the expired windows went as the new failure came


@pytest.mark.parametrize(("given", "expected"), [
    (None, "/"), ("", "/"), ("/api/live", "/api/live"), ("//evil.example", "/"),
    ("https://evil.example", "/"), ("/\\evil", "/"), ("/a\nb", "/"), ("/" + "a" * 600, "/"),
])
def test_safe_next(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected
