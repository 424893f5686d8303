"""Sign up and sign in."""

from __future__ import annotations

import functools
import re

from grabadora import auth
from grabadora.adapters.users_table import UsersTable
from grabadora.adapters.login_throttle import LoginThrottle, email_key, ip_key
from grabadora.errors import InvalidInput, NotFound, RateLimited, Unauthorized
from grabadora.ids import new_id
from grabadora.models import utc_now
from grabadora.settings import Settings

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# Verifying against this when the user does not exist keeps the timing of a wrong e-mail and a
# wrong password alike.
@functools.cache
def _dummy_hash() -> str:
    return auth.hash_password("grabadora-timing-equaliser")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("email: not a valid e-mail address")
    return email


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("password: must be at least 8 characters")
    if len(password) > 256:
        raise InvalidInput("password: must be at most 256 characters")
    if password.isdigit() or len(set(password)) < 4:
        raise InvalidInput("password: too easy to guess; mix letters, digits or symbols")


def sign_up(users: UsersTable, email: str, password: str) -> dict[str, str]:
    """Create an account; `Conflict` if the e-mail is taken."""
    email = normalise_email(email)
    check_password_strength(password)
    user = {
        "email": email,
        "user_id": new_id(),
        "password_hash": auth.hash_password(password),
        "created_at": utc_now(),
    }
    users.create(user)
    return {"id": user["user_id"], "email": email}


def sign_in(
    users: UsersTable,
    settings: Settings,
    email: str,
    password: str,
    *,
    throttle: LoginThrottle | None = None,
    client_ip: str | None = None,
) -> tuple[str, int]:
    """A fresh access token for valid credentials; `Unauthorized` otherwise.

    With a `throttle`, an e-mail or client IP with too many recent failures gets `RateLimited`
    before the password is even checked (so a correct guess during a lockout is no signal).
    """
    limits: list[tuple[str, int]] = []
    if throttle is not None:
        window = settings.login_window_seconds
        limits = [(email_key(email), settings.login_max_failures_per_email)]
        if client_ip:
            limits.append((ip_key(client_ip), settings.login_max_failures_per_ip))
        limits = [(key, limit) for key, limit in limits if limit > 0]
        waits = [w for key, limit in limits if (w := throttle.retry_after(key, limit, window)) is not None]
        if waits:
            raise RateLimited(f"too many failed sign-ins; try again in {max(waits)} s", max(waits))
    try:
        try:
            user = users.get(normalise_email(email))
        except (NotFound, InvalidInput):
            auth.verify_password(password, _dummy_hash())
            raise Unauthorized("incorrect e-mail or password") from None
        if not auth.verify_password(password, user["password_hash"]):
            raise Unauthorized("incorrect e-mail or password")
    except Unauthorized:
        for key, _ in limits:
            throttle.record_failure(key, settings.login_window_seconds)  # type: ignore[union-attr]
        raise
    if throttle is not None and limits and limits[0][0] == email_key(email):
        throttle.clear(email_key(email))
    return auth.issue_access_token(settings, user["user_id"], user["email"])
