"""Sign-up input rules: e-mail normalisation and password strength."""

from __future__ import annotations

import pytest

from grabadora.errors import InvalidInput
from grabadora.services.accounts import check_password_strength, normalise_email


@pytest.mark.parametrize(
    "given, expected",
    [
        ("  Ana@Example.COM ", "ana@example.com"),
        ("ana.maria+grabadora@correo.es", "ana.maria+grabadora@correo.es"),
        ("BOB@SUB.EXAMPLE.ORG\n", "bob@sub.example.org"),
    ],
)
def test_email_is_lower_cased_and_stripped(given: str, expected: str) -> None:
    # Given an e-mail as typed / Then one canonical form, so "Ana@" and "ana@" are one account
    assert normalise_email(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "ana@example.c",
        "ana@@example.com",
        "ana maria@example.com",
        "a" * 65 + "@example.com",
        "ana@" + "e" * 250 + ".com",
    ],
)
def test_invalid_email_is_rejected(given: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(given)
    assert caught.value.detail.startswith("email:")


@pytest.mark.parametrize("password", ["", "a1!", "Abc12!x"])
def test_short_password_is_rejected(password: str) -> None:
    with pytest.raises(InvalidInput, match="at least 8"):
        check_password_strength(password)


@pytest.mark.parametrize("password", ["12345678", "9876543210", "20240101"])
def test_all_digit_password_is_rejected(password: str) -> None:
    with pytest.raises(InvalidInput, match="too easy"):
        check_password_strength(password)


@pytest.mark.parametrize("password", ["aaaaaaaa", "abababab", "abcabcabc", "!!??!!??"])
def test_password_with_too_few_distinct_characters_is_rejected(password: str) -> None:
    with pytest.raises(InvalidInput, match="too easy"):
        check_password_strength(password)


def test_overlong_password_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="at most 256"):
        check_password_strength("abcd" * 65)


@pytest.mark.parametrize("password", ["abcd1234", "correct horse battery staple", "Zz9!Zz9!", "ñandú-2024"])
def test_reasonable_passwords_pass(password: str) -> None:
    assert check_password_strength(password) is None
