"""The long-transcript web benchmark's synthetic hour (benchmarks/web_long_transcript.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks._common import AUDIO_DIR  # noqa: E402
from benchmarks.web_long_transcript import build_transcript, reference_words  # noqa: E402

pytestmark = pytest.mark.skipif(not (AUDIO_DIR / "references.json").is_file(), reason="needs ../shared/audio/references.json")


def test_an_hour_is_about_nine_thousand_timed_words_in_whisper_sized_segments() -> None:
    # Given the reference texts
    # When an hour is built from them
    segments = build_transcript(60)

    # Then it holds an hour's worth of words, in order, each inside its segment
    words = [w for s in segments for w in s.words]
    assert 8_500 <= len(words) <= 9_500
    assert 59 * 60 <= segments[-1].t1 <= 60 * 60
    assert [s.id for s in segments] == list(range(len(segments)))
    assert all(a.t1 <= b.t0 for a, b in zip(words, words[1:], strict=False))
    assert all(s.t0 == s.words[0].t0 and s.t1 == s.words[-1].t1 and len(s.words) <= 30 for s in segments)
    assert segments[0].text.split()[:3] == reference_words()[:3]


def test_the_same_hour_every_time() -> None:
    assert build_transcript(5) == build_transcript(5)
