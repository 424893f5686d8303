"""Choosing the transcription language from Whisper's per-language probabilities (hand-made lists)."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_container.transcriber import SAMPLE_RATE, choose_language, detection_windows
from grabadora.models import TranscribeOptions
from grabadora.services.accounts import check_languages, languages_from_accept_language
from grabadora.errors import InvalidInput

# The 2-s Spanish clip as `base` hears it: Arabic first, Spanish far behind.
SHORT_SPANISH = [("ar", 0.53), ("pt", 0.12), ("es", 0.09), ("en", 0.04), ("el", 0.03)]


def test_unrestricted_takes_the_most_probable_and_says_when_unsure() -> None:
    choice = choose_language(SHORT_SPANISH, None)
    assert (choice.language, choice.source, choice.unsure) == ("ar", "detected", False)
    choice = choose_language([("pt", 0.3), ("es", 0.25)], [])
    assert (choice.language, choice.source, choice.unsure) == ("pt", "detected", True)


def test_restricted_to_spanish_only_is_always_spanish() -> None:
    choice = choose_language(SHORT_SPANISH, ["es"])
    assert choice.language == "es"
    assert choice.source == "preferred_fallback" and choice.unsure
    assert choice.probability == 0.09
    sure = choose_language([("es", 0.97), ("pt", 0.01)], ["es"])
    assert (sure.language, sure.source, sure.unsure) == ("es", "detected", False)


def test_restricted_picks_the_best_allowed_when_whisper_is_sure_of_it() -> None:
    choice = choose_language([("en", 0.91), ("es", 0.05), ("fr", 0.01)], ["es", "en"])
    assert (choice.language, choice.source, choice.unsure, choice.probability) == ("en", "detected", False, 0.91)


def test_a_clear_winner_among_the_allowed_counts_even_when_whisper_is_unsure() -> None:
    # en 0.30 vs es 0.03: 91 % of the allowed probability.
    choice = choose_language([("de", 0.4), ("en", 0.30), ("es", 0.03)], ["es", "en"])
    assert (choice.language, choice.source, choice.unsure) == ("en", "detected", True)


def test_a_clear_share_of_almost_nothing_is_noise() -> None:
    # The 2-s Spanish cut (pv_leopard_test_es.wav at 4.44 s): en 0.12 is 86 % of [es, en], but tiny.
    choice = choose_language([("fr", 0.21), ("en", 0.12), ("ja", 0.08), ("es", 0.02)], ["es", "en"])
    assert (choice.language, choice.source, choice.unsure) == ("es", "preferred_fallback", True)


def test_unsure_between_the_allowed_falls_back_to_the_first_preferred() -> None:
    choice = choose_language(SHORT_SPANISH, ["es", "en"])  # es 0.09 vs en 0.04: not clear
    assert (choice.language, choice.source, choice.unsure) == ("es", "preferred_fallback", True)
    choice = choose_language(SHORT_SPANISH, ["en", "es"])
    assert choice.language == "en" and choice.source == "preferred_fallback"


def test_allowed_languages_missing_from_the_list_count_as_zero() -> None:
    choice = choose_language([("ar", 0.9)], ["es", "en"])
    assert (choice.language, choice.source) == ("es", "preferred_fallback")
    assert choice.probability == 0.0


def test_thresholds_are_parameters() -> None:
    probs = [("en", 0.45), ("es", 0.4)]
    assert choose_language(probs, ["es", "en"], unsure_below=0.4).language == "en"
    assert choose_language(probs, ["es", "en"], unsure_below=0.5).language == "es"


def test_detection_windows_spread_over_long_speech() -> None:
    audio = np.zeros(200 * SAMPLE_RATE, dtype=np.float32)
    windows = detection_windows(audio, audio, windows=3)
    assert [w.size for w in windows] == [30 * SAMPLE_RATE] * 3
    assert len(detection_windows(audio[: 4 * SAMPLE_RATE], None)) == 1  # short: the one window
    # 70 s of speech: two whole windows, the first 30 s and the last 30 s.
    ramp = np.arange(70 * SAMPLE_RATE, dtype=np.float32)
    first, last = detection_windows(ramp, ramp)
    assert first[0] == 0 and last[-1] == ramp[-1] and last.size == 30 * SAMPLE_RATE
    # No speech found: the audio itself.
    assert detection_windows(ramp, np.zeros(0, dtype=np.float32))[0][0] == 0


def test_options_any_means_every_language_and_auto_means_the_users() -> None:
    assert TranscribeOptions(language="any").allowed_languages == []
    assert TranscribeOptions(language="any").language is None
    assert TranscribeOptions(language="auto").allowed_languages is None
    assert TranscribeOptions(language="FR").language == "fr"
    assert TranscribeOptions(allowed_languages=["ES", "en", "es"]).allowed_languages == ["es", "en"]
    with pytest.raises(ValueError):
        TranscribeOptions(allowed_languages=["klingon"])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en-US;q=0.8,fr;q=0.1", ["es", "en", "fr"]),
        ("en-GB,en;q=0.9", ["en"]),
        ("fr;q=0.5, de", ["de", "fr"]),
        ("*", ["es"]),
        ("", ["es"]),
        (None, ["es"]),
        ("xx-YY,zz", ["es"]),
        ("nb-NO", ["no"]),
        ("en;q=0", ["es"]),
    ],
)
def test_languages_from_accept_language(header: str | None, expected: list[str]) -> None:
    assert languages_from_accept_language(header) == expected


def test_check_languages() -> None:
    assert check_languages(["ES", "en"]) == ["es", "en"]
    with pytest.raises(InvalidInput):
        check_languages([])
    with pytest.raises(InvalidInput):
        check_languages(["es", "xx"])


def test_a_live_session_detects_among_the_users_languages() -> None:
    from gpu_container.transcriber import restricted_detection

    class Model:
        def detect_language(self, audio=None):
            return "ar", 0.53, SHORT_SPANISH

    model = Model()
    assert restricted_detection(model, None) is model
    restricted = restricted_detection(model, ["es", "en"])
    assert restricted.detect_language(audio=None)[0] == "es"
    assert model.detect_language()[0] == "ar"  # the shared model is left as it was


def test_the_cli_says_how_the_language_was_decided() -> None:
    from grabadora.cli import language_line

    assert language_line({"language": "fr", "language_source": "forced"}) == "fr (asked for)"
    assert language_line({"language": "es", "language_source": "detected", "language_probability": 0.97}) == "es (detected, 0.97)"
    assert "unsure" in language_line({"language": "en", "language_source": "detected", "language_probability": 0.3, "language_unsure": True})
    assert "detection unsure" in language_line({"language": "es", "language_source": "preferred_fallback"})
    assert language_line({"language": "en"}) == "en"  # transcripts made before languages were recorded


def test_submit_fills_the_users_languages_only_when_the_request_left_them_open() -> None:
    from grabadora.services.jobs import with_user_languages

    class UserState:
        def __init__(self, languages):
            self.languages = languages

        def get_languages(self, user_id: str):
            return self.languages

    speaks = UserState(["es", "en"])
    assert with_user_languages(speaks, "u", TranscribeOptions()).allowed_languages == ["es", "en"]
    assert with_user_languages(UserState(None), "u", TranscribeOptions()).allowed_languages == ["es"]
    forced = with_user_languages(speaks, "u", TranscribeOptions(language="fr"))
    assert (forced.language, forced.allowed_languages) == ("fr", None)
    assert with_user_languages(speaks, "u", TranscribeOptions(language="any")).allowed_languages == []
    assert with_user_languages(speaks, "u", TranscribeOptions(allowed_languages=["pt"])).allowed_languages == ["pt"]
