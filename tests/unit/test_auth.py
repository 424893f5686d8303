"""Passwords (scrypt) and JWTs: what gets in, and everything that must not."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from grabadora import auth
from grabadora.errors import Unauthorized
from grabadora.settings import DevSettings


@pytest.fixture(scope="module")
def stored_hash() -> str:
    # scrypt is slow on purpose; hash once for the module.
    return auth.hash_password("correct horse battery staple")


def _forge(settings: DevSettings, **claims) -> str:
    now = datetime.now(timezone.utc)
    payload = {"sub": "user-1", "typ": "access", "iat": now, "exp": now + timedelta(minutes=5), "ver": 0, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, settings.jwt_secret_key.get_secret_value(), algorithm="HS256")


# --- passwords -------------------------------------------------------------------------------


def test_verify_password_accepts_the_right_password(stored_hash: str) -> None:
    # Given a hash of a password / When verifying the same password / Then it matches
    assert auth.verify_password("correct horse battery staple", stored_hash) is True


def test_verify_password_rejects_a_wrong_password(stored_hash: str) -> None:
    # Given a hash of a password / When verifying a different one / Then it does not match
    assert auth.verify_password("correct horse battery stapler", stored_hash) is False
    assert auth.verify_password("", stored_hash) is False


def test_hash_is_self_describing_scrypt(stored_hash: str) -> None:
    # Given a fresh hash / Then it names its scheme and parameters, and carries a 16-byte salt
    scheme, n, r, p, salt, digest = stored_hash.split("$")
    assert scheme == "scrypt"
    assert (int(n), int(r), int(p)) == (2**15, 8, 1)
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 64


def test_hash_is_salted(stored_hash: str) -> None:
    # Given the same password hashed twice / Then the hashes differ, and both verify
    again = auth.hash_password("correct horse battery staple")
    assert again != stored_hash
    assert again.split("$")[4] != stored_hash.split("$")[4]
    assert auth.verify_password("correct horse battery staple", again)


def test_a_tampered_digest_does_not_verify(stored_hash: str) -> None:
    # Given a hash whose digest was replaced by another of the right length
    *head, _ = stored_hash.split("$")
    forged = "$".join([*head, base64.b64encode(b"\0" * 64).decode()])
    # Then the right password no longer matches it
    assert auth.verify_password("correct horse battery staple", forged) is False


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text-password",
        "bcrypt$16384$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$AAAA",  # a field short
        "scrypt$16384$8$1$AAAA$AAAA$AAAA",  # a field over
        "scrypt$lots$8$1$AAAA$AAAA",  # n not a number
        "scrypt$3$8$1$AAAA$AAAA",  # n not a power of two
        "scrypt$16384$8$0$AAAA$AAAA",  # p of zero
        "scrypt$16384$99999999$1$AAAA$AAAA",  # over the memory cap
        "scrypt$16384$8$1$A$AAAA",  # salt not base64
    ],
)
def test_malformed_stored_hash_is_false_not_an_error(stored: str) -> None:
    # Given a stored hash that is not one hash_password made / When verifying / Then False, no exception
    assert auth.verify_password("whatever", stored) is False


@pytest.mark.parametrize(
    "stored",
    [
        "scrypt$16384$8$1$AAAA$A",  # digest with bad base64 padding -> binascii.Error
        "scrypt$16384$8$1$AAAA$ñ",  # non-ASCII digest -> ValueError outside the try
        f"scrypt${2**70}$8$1$AAAA$AAAA",  # n beyond a C long -> TypeError
    ],
)
def test_malformed_stored_hash_with_bad_digest_or_huge_n_is_false(stored: str) -> None:
    # Given a corrupt stored hash / When verifying / Then False, no exception
    assert auth.verify_password("whatever", stored) is False


# --- tokens ------------------------------------------------------------------------------------


def test_access_token_roundtrip(settings: DevSettings) -> None:
    # Given an access token issued for a user
    token, expires_in = auth.issue_access_token(settings, "user-1", "ana@example.com")
    # When decoding it
    claims = auth.decode_token(settings, token)
    # Then it names that user, is not scoped to a job, and lives as long as configured
    assert claims == auth.TokenClaims(user_id="user-1", email="ana@example.com", job_id=None, version=0)
    assert expires_in == settings.access_token_minutes * 60
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["exp"] - payload["iat"] == expires_in


def test_stream_token_carries_the_job(settings: DevSettings) -> None:
    # Given a stream token for one job
    token = auth.issue_stream_token(settings, "user-1", "01JOB")
    # When decoding it / Then it names the user and that job only
    claims = auth.decode_token(settings, token)
    assert claims.user_id == "user-1"
    assert claims.job_id == "01JOB"
    assert claims.email is None


def test_expired_token_is_unauthorized_and_says_expired(clean_env: None) -> None:
    # Given settings with short-lived tokens and a token whose exp is already past
    settings = DevSettings(_env_file=None, jwt_secret_key="x" * 40, access_token_minutes=1)
    past = datetime.now(timezone.utc) - timedelta(minutes=2)
    token = _forge(settings, iat=past, exp=past + timedelta(minutes=1))
    # When decoding it / Then Unauthorized, telling the user it expired
    with pytest.raises(Unauthorized) as caught:
        auth.decode_token(settings, token)
    assert "expired" in caught.value.detail


def test_token_signed_with_another_key_is_unauthorized(settings: DevSettings, clean_env: None) -> None:
    # Given a well-formed token signed by someone else's key
    other = DevSettings(_env_file=None, jwt_secret_key="o" * 40)
    token, _ = auth.issue_access_token(other, "user-1", "ana@example.com")
    # When decoding with ours / Then Unauthorized
    with pytest.raises(Unauthorized):
        auth.decode_token(settings, token)


def test_unsigned_alg_none_token_is_unauthorized(settings: DevSettings) -> None:
    # Given an unsigned token (alg "none") with otherwise valid claims
    exp = datetime.now(timezone.utc) + timedelta(minutes=5)
    token = jwt.encode({"sub": "user-1", "typ": "access", "exp": exp}, None, algorithm="none")
    # When decoding it / Then Unauthorized
    with pytest.raises(Unauthorized):
        auth.decode_token(settings, token)


def test_token_with_another_hmac_algorithm_is_unauthorized(settings: DevSettings) -> None:
    # Given a token signed with our key but HS512 while HS256 is configured
    exp = datetime.now(timezone.utc) + timedelta(minutes=5)
    key = settings.jwt_secret_key.get_secret_value()
    token = jwt.encode({"sub": "user-1", "typ": "access", "exp": exp}, key, algorithm="HS512")
    # When decoding it / Then Unauthorized: only the configured algorithm is accepted
    with pytest.raises(Unauthorized):
        auth.decode_token(settings, token)


@pytest.mark.parametrize("typ", ["refresh", "id", "", "ACCESS"])
def test_token_of_an_unknown_type_is_unauthorized(settings: DevSettings, typ: str) -> None:
    # Given a correctly signed token whose typ is neither access nor stream
    token = _forge(settings, typ=typ)
    # When decoding it / Then Unauthorized
    with pytest.raises(Unauthorized):
        auth.decode_token(settings, token)


def test_stream_token_without_a_job_is_unauthorized(settings: DevSettings) -> None:
    # Given a signed stream token that names no job / Then it opens nothing
    with pytest.raises(Unauthorized):
        auth.decode_token(settings, _forge(settings, typ="stream"))


def test_tokens_carry_the_accounts_token_version(settings: DevSettings) -> None:
    # Given tokens issued at the account's token version 3
    token, _ = auth.issue_access_token(settings, "user-1", "ana@example.com", 3)
    stream = auth.issue_stream_token(settings, "user-1", "01JOB", 3)
    # Then both carry it, for the per-request check against the account's current one
    assert auth.decode_token(settings, token).version == 3
    assert auth.decode_token(settings, stream).version == 3


@pytest.mark.parametrize("missing", ["sub", "typ", "exp", "ver"])
def test_token_missing_a_required_claim_is_unauthorized(settings: DevSettings, missing: str) -> None:
    # Given a signed token without one of sub, typ, exp
    now = datetime.now(timezone.utc)
    payload = {"sub": "user-1", "typ": "access", "exp": now + timedelta(minutes=5), "ver": 0}
    del payload[missing]
    token = jwt.encode(payload, settings.jwt_secret_key.get_secret_value(), algorithm="HS256")
    # When decoding it / Then Unauthorized
    with pytest.raises(Unauthorized):
        auth.decode_token(settings, token)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_garbage_token_is_unauthorized(settings: DevSettings, token: str) -> None:
    # Given something that is not a JWT / Then Unauthorized, never a crash
    with pytest.raises(Unauthorized):
        auth.decode_token(settings, token)
