"""Password and API-token hashing: salted scrypt for passwords, SHA-256 for random tokens.

A password hash is one self-describing string, ``scrypt$<n>$<r>$<p>$<salt>$<key>`` (salt and
key base64), so the cost can be raised later and old hashes still verify with their own
parameters.  An API token is 32 random bytes: it cannot be guessed, so a fast unsalted digest
is enough and lets the store look a token up by its hash (the token itself is never stored).
scrypt is deliberately slow and memory-hard: call ``verify_password`` off the event loop.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
DEFAULT_N = 2**14  # 16 MiB with r=8, about 50 ms on one core
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
TOKEN_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
        maxmem=256 * n * r + 1024 * 1024,
    )


def hash_password(password: str, *, n: int = DEFAULT_N) -> str:
    """A fresh salted scrypt hash string of ``password``."""
    if not password:
        raise ValueError("an empty password cannot be set")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, n, DEFAULT_R, DEFAULT_P)
    return f"{SCHEME}${n}${DEFAULT_R}${DEFAULT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time compare; False for a bad hash)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_hash() -> str:
    """Verified against when the user name is unknown, so both failures cost the same time."""
    return hash_password("clinicall-no-such-user")


def new_api_token() -> str:
    """A new random API token (URL-safe text, shown to its owner once)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What the store keeps of an API token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
