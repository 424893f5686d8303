"""The live benchmark's pure helpers: which partial first showed each confirmed word (benchmarks/live.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.live import (  # noqa: E402
    Confirmed,
    Partial,
    dropped_at_finish,
    first_shown,
    stream_problems,
    word_key,
    word_latencies,
)


def words(*specs: tuple[str, float, float, float]) -> list[Confirmed]:
    return [Confirmed(text, t0, t1, arrival) for text, t0, t1, arrival in specs]


SENTENCE = words(
    (" Las", 0.0, 0.3, 3.0),
    (" arenas", 0.3, 0.8, 3.0),
    (" son", 0.8, 1.0, 4.0),
    (" blanquecinas,", 1.0, 1.9, 5.0),
)


def test_word_key_ignores_case_and_punctuation() -> None:
    assert word_key(" Blanquecinas,") == word_key("blanquecinas") == "blanquecinas"
    assert word_key(" ¿Qué?") == "qué"
    assert word_key(" ...") == ""


def test_a_partial_shows_the_words_that_follow_the_confirmed_ones_by_position() -> None:
    partials = [
        Partial(0, " Las arenas", 0.0, 0.8, 1.5),
        Partial(0, " Las arenas son", 0.0, 1.0, 2.0),
        Partial(2, " son blanquecinas", 0.8, 1.9, 3.0),
    ]
    assert first_shown(SENTENCE, partials) == [1.5, 1.5, 2.0, 3.0]


def test_a_partial_word_that_was_dropped_later_does_not_shift_the_rest() -> None:
    # "eh" was tentative and never confirmed; "son blanquecinas" still match their words.
    partials = [Partial(2, " eh son blanquecinas", 0.8, 1.9, 3.5)]
    assert first_shown(SENTENCE, partials) == [None, None, 3.5, 3.5]


def test_a_different_tentative_word_is_not_counted_as_shown() -> None:
    partials = [Partial(2, " sol blanquecinas", 0.8, 1.9, 3.5)]
    assert first_shown(SENTENCE, partials) == [None, None, None, 3.5]


def test_a_matching_word_outside_the_partials_time_span_is_not_counted() -> None:
    # The same text, but the partial covers 5-6 s: a later "son", not the one at 0.8-1.0 s.
    partials = [Partial(2, " son", 5.0, 6.0, 3.5)]
    assert first_shown(SENTENCE, partials) == [None, None, None, None]


def test_the_earliest_partial_wins_and_empty_partials_show_nothing() -> None:
    partials = [Partial(0, " Las", 0.0, 0.3, 2.5), Partial(0, " Las", 0.0, 0.3, 1.0), Partial(4, "", None, None, 6.0)]
    assert first_shown(SENTENCE, partials)[0] == 1.0


def test_latencies_are_from_the_word_end_and_tentative_is_never_later_than_confirmed() -> None:
    final, tentative = word_latencies(SENTENCE, [Partial(0, " Las arenas", 0.0, 0.8, 1.5)], start=0.0)
    assert final == pytest.approx([2.7, 2.2, 3.0, 3.1])
    assert tentative == pytest.approx([1.2, 0.7, 3.0, 3.1])


def test_stream_problems_name_gaps_repeats_and_time_going_back() -> None:
    assert stream_problems(SENTENCE, [0, 1, 2, 3]) == []
    bad = words((" son", 0.8, 1.0, 1.0), (" son", 0.9, 1.1, 1.0), (" la", 0.5, 0.6, 1.0))
    problems = stream_problems(bad, [0, 2])
    assert problems[0].startswith("event ids")
    assert any(p.startswith("repeated word") for p in problems)
    assert any(p.startswith("time went back") for p in problems)


def test_the_last_partials_words_that_no_later_delta_confirmed_are_reported_as_dropped() -> None:
    confirmed = words((" muy", 5.9, 6.3, 7.9), (" pocas", 6.3, 6.8, 8.8))
    # " pocas" confirmed after the partial; " estereas" never was.
    partials = [Partial(1, " pocas estereas", 6.3, 7.5, 8.0), Partial(2, "", None, None, 9.1)]
    assert dropped_at_finish(confirmed, partials) == ["estereas"]
    assert dropped_at_finish(confirmed, [Partial(1, " pocas", 6.3, 6.8, 8.0)]) == []
    assert dropped_at_finish(confirmed, []) == []
