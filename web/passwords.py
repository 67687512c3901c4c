"""Password and API-token hashing: argon2id for passwords, SHA-256 for random tokens.

A password hash is argon2's own self-describing string (``$argon2id$v=19$m=...,t=...,p=...$
<salt>$<hash>``), so the cost can be raised later and old hashes still verify with their own
parameters; ``needs_rehash`` says when a stored hash is weaker than the current cost, and the
login then stores a fresh one (docs/web-security.md, "Passwords").  Hashes of the former scheme,
``scrypt$<n>$<r>$<p>$<salt>$<key>`` (salt and key base64), still verify, and always need a
rehash.  An API token is 32 random bytes: it cannot be guessed, so a fast unsalted digest is
enough and lets the store look a token up by its hash (the token itself is never stored).
Both password schemes are deliberately slow and memory-hard: call them off the event loop.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_BYTES = 32
ARGON2_PREFIX = "$argon2id$"
SCRYPT_SCHEME = "scrypt"
#: The largest scrypt cost a stored legacy hash may ask for (the former default was 2**14).
MAX_SCRYPT_N = 2**17


@dataclass(frozen=True, slots=True)
class PasswordCost:
    """argon2id's cost: passes, memory in KiB, lanes."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4


#: RFC 9106's second recommended profile (64 MiB, 3 passes, 4 lanes), argon2-cffi's default.
DEFAULT_COST = PasswordCost()


@functools.cache
def _hasher(cost: PasswordCost) -> PasswordHasher:
    return PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib,
                          parallelism=cost.parallelism, type=Type.ID)


def hash_password(password: str, *, cost: PasswordCost = DEFAULT_COST) -> str:
    """A fresh salted argon2id hash string of ``password``."""
    if not password:
        raise ValueError("an empty password cannot be set")
    return _hasher(cost).hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2id, or the former scrypt scheme);
    False for a hash in no known scheme."""
    if stored.startswith(ARGON2_PREFIX):
        try:
            return _hasher(DEFAULT_COST).verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return _verify_scrypt(password, stored)


def needs_rehash(stored: str, cost: PasswordCost = DEFAULT_COST) -> bool:
    """Whether ``stored`` should be replaced by a hash at ``cost`` (another scheme, or other
    argon2 parameters)."""
    if not stored.startswith(ARGON2_PREFIX):
        return True
    try:
        return _hasher(cost).check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n_text, r_text, p_text, salt, key = stored.split("$")
        if scheme != SCRYPT_SCHEME:
            return False
        n, r, p = int(n_text), int(r_text), int(p_text)
        if not (1 < n <= MAX_SCRYPT_N and 0 < r <= 32 and 0 < p <= 16):
            return False
        expected = base64.b64decode(key, validate=True)
        actual = hashlib.scrypt(password.encode("utf-8"),
                                salt=base64.b64decode(salt, validate=True), n=n, r=r, p=p,
                                dklen=len(expected), maxmem=256 * n * r + 1024 * 1024)
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_hash(cost: PasswordCost = DEFAULT_COST) -> str:
    """Verified against when the user name is unknown, so both failures cost the same time."""
    return hash_password("clinicall-no-such-user", cost=cost)


def new_api_token() -> str:
    """A new random API token (URL-safe text, shown to its owner once)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What the store keeps of an API token or a session id: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
