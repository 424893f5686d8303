"""The live commit policy without a model: LocalAgreement-2 on hand-made hypotheses, resuming
after a crash, and grouping confirmed words into segments."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_container.streaming import LiveTranscriber, LocalAgreement, StreamStep, _resume_point, words_to_segments
from grabadora.models import Word


def _words(text: str, start: float = 0.0, step: float = 0.5) -> list[Word]:
    """' a b c' as words of `step` seconds each from `start`."""
    return [Word(text=f" {w}", t0=start + i * step, t1=start + (i + 1) * step) for i, w in enumerate(text.split())]


def _text(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()


def test_a_word_is_confirmed_once_two_hypotheses_agree_on_it_and_all_before_it() -> None:
    la = LocalAgreement()
    first = la.insert(_words("hola que tal"))
    assert first.confirmed == [] and _text(first.tentative) == "hola que tal"
    second = la.insert(_words("hola que tas estas"))
    assert _text(second.confirmed) == "hola que"
    assert _text(second.tentative) == "tas estas"
    assert la.confirmed_until == 1.0


def test_case_and_punctuation_do_not_break_agreement_and_the_newer_spelling_wins() -> None:
    la = LocalAgreement()
    la.insert(_words("hola mundo"))
    step = la.insert([Word(text=" Hola,", t0=0.0, t1=0.5), Word(text=" mundo.", t0=0.5, t1=1.0)])
    assert [w.text for w in step.confirmed] == [" Hola,", " mundo."]


def test_confirmed_words_heard_again_are_never_confirmed_twice() -> None:
    la = LocalAgreement()
    la.insert(_words("uno dos tres"))
    la.insert(_words("uno dos tres cuatro"))
    assert la.confirmed_until == 1.5
    # The buffer still holds the confirmed audio: every later decode repeats those words.
    again = la.insert(_words("uno dos tres cuatro cinco"))
    assert _text(again.confirmed) == "cuatro"
    again = la.insert(_words("uno dos tres cuatro cinco seis"))
    assert _text(again.confirmed) == "cinco"


def test_a_repeated_head_whose_timing_drifted_late_is_recognised_by_its_words() -> None:
    la = LocalAgreement(_words("uno dos tres"))
    # "dos tres" again, but aligned just after the confirmed end: the n-gram check drops them.
    drifted = _words("dos tres cuatro", start=1.45)
    la.insert(drifted)
    step = la.insert(_words("dos tres cuatro cinco", start=1.45))
    assert _text(step.confirmed) == "cuatro"


def test_confirmed_times_are_monotonic_even_when_alignment_jitters_back() -> None:
    la = LocalAgreement()
    confirmed: list[Word] = []
    hypotheses = [
        [Word(text=" a", t0=0.0, t1=0.6)],
        [Word(text=" a", t0=0.0, t1=0.6), Word(text=" b", t0=0.55, t1=0.9)],
        [Word(text=" a", t0=0.0, t1=0.6), Word(text=" b", t0=0.52, t1=0.9), Word(text=" c", t0=0.8, t1=1.2)],
        [Word(text=" b", t0=0.52, t1=0.9), Word(text=" c", t0=0.85, t1=1.2), Word(text=" d", t0=1.2, t1=1.5)],
    ]
    for h in hypotheses:
        confirmed += la.insert(h).confirmed
    assert _text(confirmed) == "a b c"
    for earlier, later in zip(confirmed, confirmed[1:], strict=False):
        assert earlier.t1 <= later.t0 <= later.t1


def test_flush_confirms_the_tail_but_stops_at_an_unsure_last_word() -> None:
    la = LocalAgreement()
    la.insert(_words("fin de la"))
    tail = [*_words("fin de la historia"), Word(text=" Gracias.", t0=2.0, t1=2.4, probability=0.1)]
    la.insert(tail)
    assert _text(la.flush(0.3)) == "historia"  # "fin de la" was confirmed by the second insert
    assert la.tentative == []


def test_confirm_until_takes_the_words_that_started_before_a_pause() -> None:
    la = LocalAgreement()
    la.insert(_words("uno dos tres"))  # 0-1.5 s
    assert _text(la.confirm_until(1.1)) == "uno dos tres"
    assert la.insert(_words("uno dos tres")).confirmed == []


def test_resume_from_never_confirms_what_was_confirmed_before_the_crash() -> None:
    before = _words("el capitan veneno llego")  # 0-2 s
    la = LocalAgreement(before)
    # The restarted buffer re-hears the last confirmed words, with slightly different timings.
    la.insert(_words("veneno llego tarde", start=1.02))
    step = la.insert(_words("veneno llego tarde ayer", start=1.03))
    assert _text(step.confirmed) == "tarde"
    assert step.confirmed[0].t0 >= before[-1].t1


def test_the_resume_point_is_a_recent_sentence_end_or_pause_else_the_last_word_start() -> None:
    sentence = [*_words("hola."), *_words("que tal", start=0.6)]  # "hola." ends 0.5, then 0.1 s gap
    assert _resume_point(sentence) == 0.5
    ended = _words("adios.")
    assert _resume_point(ended) == ended[-1].t1
    running = _words("uno dos tres cuatro")
    assert _resume_point(running) == running[-1].t0
    paused = [*_words("uno dos"), *_words("tres cuatro", start=1.5)]  # 0.5 s pause after "dos"
    assert _resume_point(paused) == 1.0
    assert _resume_point([]) == 0.0


class _FakeModel:
    """Stands in for WhisperModel where a test only needs the session's bookkeeping."""

    model = type("M", (), {"is_multilingual": False})()

    def encode(self, features):  # pragma: no cover - never decoded here
        raise AssertionError


def test_live_transcriber_resume_sets_the_offset_and_waits_for_audio() -> None:
    live = LiveTranscriber(_FakeModel(), language=None)
    assert live.language == "en"  # an English-only model fixes it
    confirmed = [*_words("hola."), *_words("que tal", start=0.6)]
    live.resume_from(confirmed)
    assert live.audio_offset == 0.5
    live.feed(np.zeros(1600, dtype=np.float32))
    assert live.buffered_seconds == pytest.approx(0.1)
    assert live.step() == StreamStep(confirmed=[], tentative=[])  # too little audio to decode


def test_unknown_tuning_is_rejected() -> None:
    with pytest.raises(TypeError):
        LiveTranscriber(_FakeModel(), language="en", trim_seconds=3)


def test_words_to_segments_breaks_at_sentence_ends_pauses_and_30_seconds() -> None:
    words = [
        *_words("Hola a todos."),  # 0-1.5
        *_words("Bienvenidos al", start=1.5),  # 1.5-2.5
        *_words("programa de hoy", start=4.0),  # after a 1.5 s pause
    ]
    segments = words_to_segments(words)
    assert [s.text for s in segments] == [" Hola a todos.", " Bienvenidos al", " programa de hoy"]
    assert [s.id for s in segments] == [0, 1, 2]
    assert (segments[1].t0, segments[1].t1) == (1.5, 2.5)
    long_run = _words(" ".join(["palabra"] * 80))  # 40 s with no punctuation or pause
    parts = words_to_segments(long_run)
    assert len(parts) == 2 and all(s.t1 - s.t0 <= 30 for s in parts)
    assert sum(len(s.words) for s in parts) == 80
    assert words_to_segments([]) == []
