"""How one decoded segment becomes stream events: a delta per word, then progress."""

from __future__ import annotations

import pytest

from gpu_container.job import _segment_events
from grabadora.models import Segment, Word


def _segment(t0: float, t1: float, text: str, words: list[Word] | None = None) -> Segment:
    return Segment(id=0, t0=t0, t1=t1, text=text, words=words or [])


def test_segment_with_words_gives_one_delta_per_word_then_progress() -> None:
    # Given a segment with aligned words, in a 10-second recording
    words = [Word(text=" Hola", t0=0.0, t1=0.4, probability=0.9), Word(text=" mundo.", t0=0.5, t1=2.5)]
    segment = _segment(0.0, 2.5, " Hola mundo.", words)
    # When turning it into events
    events = _segment_events(segment, duration=10.0)
    # Then a delta per word, in order, with its text and times, then one progress event
    assert events == [
        ("delta", {"text": " Hola", "t0": 0.0, "t1": 0.4}),
        ("delta", {"text": " mundo.", "t0": 0.5, "t1": 2.5}),
        ("progress", {"progress": 0.25, "processed_s": 2.5, "duration_s": 10.0}),
    ]


def test_segment_without_words_gives_a_single_delta_with_its_text() -> None:
    # Given a segment without word timestamps
    segment = _segment(3.0, 6.0, " Sin palabras alineadas.")
    # When turning it into events
    events = _segment_events(segment, duration=12.0)
    # Then one delta carrying the whole segment, then progress
    assert events[0] == ("delta", {"text": " Sin palabras alineadas.", "t0": 3.0, "t1": 6.0})
    assert [kind for kind, _ in events] == ["delta", "progress"]
    assert events[1][1]["progress"] == 0.5


def test_progress_is_end_over_duration_rounded() -> None:
    events = _segment_events(_segment(0.0, 1.0, " a"), duration=3.0)
    assert events[-1] == ("progress", {"progress": 0.3333, "processed_s": 1.0, "duration_s": 3.0})


def test_progress_never_exceeds_one() -> None:
    # Given a last segment whose end overshoots the measured duration (Whisper pads)
    events = _segment_events(_segment(9.0, 10.4, " fin"), duration=10.0)
    # Then progress stops at 1 and processed time at the duration
    assert events[-1][1]["progress"] == 1.0
    assert events[-1][1]["processed_s"] == 10.0


def test_zero_duration_does_not_divide_by_zero() -> None:
    events = _segment_events(_segment(0.0, 0.0, " "), duration=0.0)
    assert events[-1][1]["progress"] == 1.0


@pytest.mark.parametrize("n_words", [1, 7])
def test_event_count_is_words_plus_one(n_words: int) -> None:
    words = [Word(text=f" w{i}", t0=float(i), t1=i + 0.5) for i in range(n_words)]
    events = _segment_events(_segment(0.0, n_words - 0.5, "", words), duration=60.0)
    assert len(events) == n_words + 1
    assert [d["text"] for _, d in events[:-1]] == [w.text for w in words]
