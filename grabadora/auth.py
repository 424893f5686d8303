"""Passwords (scrypt) and tokens (JWT): access tokens, and stream tokens scoped to one job."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from grabadora.errors import Unauthorized
from grabadora.settings import TokenSettings

# scrypt parameters: n=2**15, r=8 costs ~32 MiB and tens of ms per hash (OWASP's minimum is 2**17
# with r=8 and p=1 at 128 MiB; a Lambda with 512 MiB affords 2**15 comfortably for many logins).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """A self-describing scrypt hash: `scrypt$n$r$p$salt$digest`."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=_SCRYPT_MAXMEM
    )
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by `hash_password`, in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
        )
        expected = base64.b64decode(digest, validate=True)
    except (ValueError, TypeError, OverflowError):
        # A malformed stored hash (bad base64, absurd cost parameters) matches nothing.
        return False
    return hmac.compare_digest(candidate, expected)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    email: str | None
    job_id: str | None  # set only on stream tokens
    # The account's token version when the token was issued (`ver`); a token is valid only
    # while it equals the account's current one (sign-out-everywhere and deletion change it).
    # None for API keys, which are checked against their own stored record.
    version: int | None = None


def _issue(settings: TokenSettings, claims: dict, lifetime: timedelta) -> tuple[str, int]:
    now = datetime.now(timezone.utc)
    payload = {**claims, "iat": now, "exp": now + lifetime}
    token = jwt.encode(payload, settings.jwt_secret_key.get_secret_value(), algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def issue_access_token(settings: TokenSettings, user_id: str, email: str, version: int = 0) -> tuple[str, int]:
    """A bearer token for the API; returns (token, seconds until it expires)."""
    claims = {"sub": user_id, "email": email, "typ": "access", "ver": version}
    return _issue(settings, claims, timedelta(minutes=settings.access_token_minutes))


def issue_stream_token(settings: TokenSettings, user_id: str, job_id: str, version: int = 0) -> str:
    """A token that opens only this job's event stream (EventSource cannot send headers)."""
    claims = {"sub": user_id, "job": job_id, "typ": "stream", "ver": version}
    token, _ = _issue(settings, claims, timedelta(minutes=settings.stream_token_minutes))
    return token


def decode_token(settings: TokenSettings, token: str) -> TokenClaims:
    """Verify signature, algorithm and expiry; `Unauthorized` on anything wrong."""
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret_key.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub", "typ", "ver"]},
        )
    except jwt.ExpiredSignatureError as e:
        raise Unauthorized("token expired; sign in again", code="session_expired") from e
    except jwt.InvalidTokenError as e:
        raise Unauthorized("invalid token") from e
    version = payload["ver"]
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(payload["sub"], str):
        raise Unauthorized("invalid token")
    if payload["typ"] == "access":
        return TokenClaims(user_id=payload["sub"], email=payload.get("email"), job_id=None, version=version)
    if payload["typ"] == "stream" and isinstance(payload.get("job"), str):
        return TokenClaims(user_id=payload["sub"], email=None, job_id=payload["job"], version=version)
    raise Unauthorized("invalid token")
