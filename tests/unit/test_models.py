"""TranscribeOptions: what a user may ask of one transcription, normalised or refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from grabadora.models import QualityProfile, TranscribeOptions


@pytest.mark.parametrize("given, expected", [("ES", "es"), (" en ", "en"), ("yue", "yue"), ("es", "es")])
def test_language_is_normalised_to_a_lower_case_code(given: str, expected: str) -> None:
    # Given a language code in any case or padding / When validating / Then the canonical code
    assert TranscribeOptions(language=given).language == expected


@pytest.mark.parametrize("given", ["auto", "AUTO", "", "   ", None])
def test_auto_or_blank_language_means_detect(given: str | None) -> None:
    # Given "auto", a blank or no language / Then language is None (Whisper detects it)
    assert TranscribeOptions(language=given).language is None


def test_language_defaults_to_detect() -> None:
    assert TranscribeOptions().language is None


@pytest.mark.parametrize("given", ["xx", "spanish", "es-ES"])
def test_unknown_language_is_rejected_naming_the_field(given: str) -> None:
    # Given a code Whisper does not know / When validating
    with pytest.raises(ValidationError) as caught:
        TranscribeOptions(language=given)
    # Then the error points at `language` and says what was wrong
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [("language",)]
    assert given.strip().lower() in errors[0]["msg"]


def test_tags_are_stripped_and_deduplicated_in_order() -> None:
    # Given tags with padding, repeats and blanks
    options = TranscribeOptions(tags=[" work ", "work", "meeting", "", "  ", "meeting ", "Work"])
    # Then each tag once, stripped, first-seen order, case kept
    assert options.tags == ["work", "meeting", "Work"]


def test_a_tag_of_fifty_characters_is_accepted() -> None:
    assert TranscribeOptions(tags=["t" * 50]).tags == ["t" * 50]


def test_a_tag_over_fifty_characters_is_rejected() -> None:
    # Given a 51-character tag / When validating / Then the error names `tags`
    with pytest.raises(ValidationError) as caught:
        TranscribeOptions(tags=["ok", "t" * 51])
    assert caught.value.errors()[0]["loc"] == ("tags",)


def test_more_than_twenty_tags_are_rejected() -> None:
    with pytest.raises(ValidationError):
        TranscribeOptions(tags=[f"t{i}" for i in range(21)])


def test_extra_fields_are_forbidden() -> None:
    # Given a field the model does not define (a typo, or something smuggled in)
    with pytest.raises(ValidationError) as caught:
        TranscribeOptions(langauge="es")
    # Then it is refused, not silently dropped
    assert caught.value.errors()[0]["type"] == "extra_forbidden"
    assert caught.value.errors()[0]["loc"] == ("langauge",)


def test_defaults() -> None:
    # Given no options / Then balanced profile, word timestamps on, no diarization, no tags
    options = TranscribeOptions()
    assert options.profile is QualityProfile.BALANCED
    assert options.profile == "balanced"
    assert options.word_timestamps is True
    assert options.diarization is False
    assert options.tags == []
    assert options.title is None


@pytest.mark.parametrize("profile", ["fast", "balanced", "precise"])
def test_known_profiles_are_accepted(profile: str) -> None:
    assert TranscribeOptions(profile=profile).profile == QualityProfile(profile)


@pytest.mark.parametrize("profile", ["ultra", "", "large-v3"])
def test_invalid_profile_is_rejected(profile: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TranscribeOptions(profile=profile)
    assert caught.value.errors()[0]["loc"] == ("profile",)


def test_options_survive_the_sqs_json_roundtrip() -> None:
    # Given options as the API builds them / When serialised and parsed back (as the worker does)
    options = TranscribeOptions(language="ES", profile="precise", tags=["a"], title="Reunión")
    again = TranscribeOptions.model_validate_json(options.model_dump_json())
    # Then nothing changes
    assert again == options
