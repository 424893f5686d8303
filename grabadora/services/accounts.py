"""Sign up and sign in."""

from __future__ import annotations

import functools
import re

from grabadora import auth
from grabadora.adapters.user_state import UserStateTable
from grabadora.adapters.users_table import UsersTable
from grabadora.adapters.login_throttle import LoginThrottle, email_key, ip_key
from grabadora.errors import InvalidInput, NotFound, RateLimited, Unauthorized
from grabadora.ids import new_id
from grabadora.models import DEFAULT_LANGUAGES, WHISPER_LANGUAGES, clean_languages, utc_now
from grabadora.settings import IntakeSettings

MAX_LANGUAGES = 10
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
        raise InvalidInput("password: must be at least 8 characters", code="password_short")
    if len(password) > 256:
        raise InvalidInput("password: must be at most 256 characters")
    if password.isdigit() or len(set(password)) < 4:
        raise InvalidInput("password: too easy to guess; mix letters, digits or symbols", code="password_weak")


def languages_from_accept_language(header: str | None) -> list[str]:
    """Whisper codes of an Accept-Language header, by quality, Spanish when none is known.

    `es-MX,es;q=0.9,en-US;q=0.8,fr;q=0.1` -> ['es', 'en', 'fr']; '*' and unknown tags are skipped.
    """
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code == "nb":  # Norwegian Bokmål: Whisper's 'no'
            code = "no"
        if quality > 0 and code in WHISPER_LANGUAGES:
            ranked.append((-quality, index, code))
    languages = list(dict.fromkeys(code for _, _, code in sorted(ranked)))[:MAX_LANGUAGES]
    return languages or list(DEFAULT_LANGUAGES)


def check_languages(languages: list[str]) -> list[str]:
    """Known Whisper codes, cleaned; `InvalidInput` otherwise."""
    try:
        cleaned = clean_languages(languages)
    except ValueError as e:
        raise InvalidInput(f"languages: {e}") from None
    if not 1 <= len(cleaned) <= MAX_LANGUAGES:
        raise InvalidInput(f"languages: give between 1 and {MAX_LANGUAGES} languages, the preferred one first")
    return cleaned


def user_languages(user_state: UserStateTable, user_id: str) -> list[str]:
    """The languages the user speaks, first preferred (Spanish for accounts that never said)."""
    return user_state.get_languages(user_id) or list(DEFAULT_LANGUAGES)


def set_user_languages(user_state: UserStateTable, user_id: str, languages: list[str]) -> list[str]:
    languages = check_languages(languages)
    user_state.put_languages(user_id, languages)
    return languages


def sign_up(
    users: UsersTable,
    email: str,
    password: str,
    *,
    languages: list[str] | None = None,
    accept_language: str | None = None,
    user_state: UserStateTable | None = None,
) -> dict:
    """Create an account; `Conflict` if the e-mail is taken.

    Its languages: `languages` when given, else the browser's (`accept_language`), else Spanish.
    """
    email = normalise_email(email)
    check_password_strength(password)
    spoken = check_languages(languages) if languages else languages_from_accept_language(accept_language)
    user = {
        "email": email,
        "user_id": new_id(),
        "password_hash": auth.hash_password(password),
        "created_at": utc_now(),
    }
    users.create(user)
    if user_state is not None:
        user_state.open_session(user["user_id"])  # the account's token version (0)
        user_state.put_languages(user["user_id"], spoken)
    return {"id": user["user_id"], "email": email, "languages": spoken}


def sign_in(
    users: UsersTable,
    settings: IntakeSettings,
    email: str,
    password: str,
    *,
    throttle: LoginThrottle | None = None,
    client_ip: str | None = None,
    user_state: UserStateTable | None = None,
) -> tuple[str, int]:
    """A fresh access token for valid credentials; `Unauthorized` otherwise.

    With a `throttle`, an e-mail or client IP with too many recent failures gets `RateLimited`
    before the password is even checked (so a correct guess during a lockout is no signal).
    """
    limits: list[tuple[str, int]] = []
    if throttle is not None:
        window = settings.login_window_seconds
        # Per e-mail *and* address: a stranger's wrong guesses lock only the stranger out of
        # the account. Across addresses, an e-mail takes 10x that many failures (distributed
        # guessing), which a stranger needs 10 addresses to reach; per address, the IP limit.
        per_email = settings.login_max_failures_per_email
        limits = [(f"{email_key(email)}#ip#{client_ip or '-'}", per_email), (email_key(email), per_email * 10)]
        if client_ip:
            limits.append((ip_key(client_ip), settings.login_max_failures_per_ip))
        limits = [(key, limit) for key, limit in limits if limit > 0]
        waits = [w for key, limit in limits if (w := throttle.retry_after(key, limit, window)) is not None]
        if waits:
            raise RateLimited(f"too many failed sign-ins; try again in {max(waits)} s", max(waits), code="signin_rate_limited")
    try:
        try:
            user = users.get(normalise_email(email))
        except (NotFound, InvalidInput):
            auth.verify_password(password, _dummy_hash())
            raise Unauthorized("incorrect e-mail or password", code="wrong_credentials") from None
        if not auth.verify_password(password, user["password_hash"]):
            raise Unauthorized("incorrect e-mail or password", code="wrong_credentials")
    except Unauthorized:
        for key, _ in limits:
            throttle.record_failure(key, settings.login_window_seconds)  # type: ignore[union-attr]
        raise
    if throttle is not None:
        for key, _ in limits:
            if key.startswith(email_key(email)):  # the e-mail's counters, not the address's
                throttle.clear(key)
    # Accounts made before token versions existed get their session record at sign-in.
    version = user_state.open_session(user["user_id"]) if user_state is not None else 0
    return auth.issue_access_token(settings, user["user_id"], user["email"], version)


def check_session(user_state: UserStateTable, claims: auth.TokenClaims) -> auth.TokenClaims:
    """`Unauthorized` unless the token's account exists and the token was not revoked since.

    One consistent read per request: a token outlives neither its account nor a sign-out
    everywhere, however long its `exp`.
    """
    current = user_state.token_version(claims.user_id)
    if current is None:
        raise Unauthorized("this account no longer exists", code="account_gone")
    if claims.version is not None and claims.version != current:
        raise Unauthorized("signed out: this session was ended; sign in again", code="session_revoked")
    return claims


def sign_out_everywhere(user_state: UserStateTable, user_id: str) -> None:
    """Every access and stream token issued so far stops working (API keys are revoked one by one)."""
    user_state.bump_token_version(user_id)


def delete_account(users: UsersTable, user_state: UserStateTable, library_ports, user_id: str, email: str | None) -> int:
    """Delete the account and everything it owns; how many transcripts went.

    The session record goes first, so every token (access and stream) is refused from then on
    even if the rest is interrupted; then the sign-in record, each transcript with its audio,
    events and document, and last the user's state (API keys, integrations, usage).
    Repeating it after an interruption finishes the job.
    """
    from grabadora.services import library

    user_state.close_session(user_id)
    if email:
        users.delete(email)
    deleted, cursor = 0, None
    while True:
        page, cursor = library_ports.transcripts.list_page(user_id, terms=[], status=None, limit=100, cursor=cursor)
        for summary in page:
            try:
                library.delete_transcript(library_ports, user_id, summary.id)
                deleted += 1
            except NotFound:
                pass
        if cursor is None:
            break
    library_ports.store.delete_prefix(f"audio/{user_id}/")
    library_ports.store.delete_prefix(f"transcripts/{user_id}/")
    user_state.delete_all(user_id)
    return deleted
