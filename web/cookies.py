"""The signed session cookie: who is logged in, with which role, until when.

The value is ``<user id>.<role>.<expiry unix seconds>.<signature>`` where the signature is
HMAC-SHA256 over the first three fields with the application's secret (base64url, no
padding).  Nothing secret is inside, only unforgeable: a changed field, a signature made with
another secret, or an expiry in the past is refused.  The server still checks on every request
that the user is active and has that role, so disabling a user ends their sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

COOKIE_NAME = "clinicall_session"
MIN_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class SessionClaims:
    user_id: int
    role: str
    expires: int  # unix seconds


def _sign(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def encode_session(secret: bytes, claims: SessionClaims) -> str:
    """The cookie value carrying ``claims``, signed with ``secret``."""
    if not claims.role.isalnum():
        raise ValueError(f"a role must be alphanumeric, not {claims.role!r}")
    payload = f"{claims.user_id}.{claims.role}.{claims.expires}"
    return f"{payload}.{_sign(secret, payload)}"


def decode_session(secret: bytes, value: str, now: datetime) -> SessionClaims | None:
    """The claims of a genuine, unexpired cookie value; None for anything else."""
    parts = value.split(".")
    if len(parts) != 4 or not value.isascii():
        return None
    user_id, role, expires, signature = parts
    if not hmac.compare_digest(_sign(secret, f"{user_id}.{role}.{expires}"), signature):
        return None
    if not (user_id.isdigit() and expires.isdigit()):
        return None
    claims = SessionClaims(int(user_id), role, int(expires))
    return claims if claims.expires > now.timestamp() else None
