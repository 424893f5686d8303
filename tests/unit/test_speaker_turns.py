"""Turns follow the words: one-word flips smoothed, boundaries on pauses, segments split where
the speaker changes (hand-made words, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_container.diarization import Diarizer, smooth_labels, speaker_turns, split_turns
from grabadora.models import Segment, Word


def _words(spec: str, start: float = 0.0, dur: float = 0.3, gap: float = 0.05) -> list[Word]:
    """Words from 'text/SPEAKER text/SPEAKER ...'; a '|' before a word is a 0.6 s pause."""
    out, t = [], start
    for token in spec.split():
        if token == "|":
            t += 0.6
            continue
        text, speaker = token.split("/")
        out.append(Word(text=f" {text}", t0=round(t, 3), t1=round(t + dur, 3), speaker=speaker))
        t += dur + gap
    return out


def _segment(id_: int, words: list[Word]) -> Segment:
    return Segment(id=id_, t0=words[0].t0, t1=words[-1].t1, text="".join(w.text for w in words), words=words,
                   avg_logprob=-0.2)


def _spans(words: list[Word]) -> list[tuple[float, float]]:
    return [(w.t0, w.t1) for w in words]


def test_a_single_word_between_two_runs_of_another_speaker_takes_their_label() -> None:
    words = _words("a/S1 b/S1 c/S2 d/S1 e/S1")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1"] * 5


def test_a_single_word_between_two_other_speakers_joins_the_nearer_one() -> None:
    # a spurious S2 on the first word of S3's turn, right after S1's pause
    words = _words("a/S1 b/S1 | c/S2 d/S3 e/S3")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S1", "S3", "S3", "S3"]
    words = _words("a/S1 b/S1 c/S2 | d/S3 e/S3")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S1", "S1", "S3", "S3"]


def test_a_one_word_reply_set_apart_by_pauses_is_kept() -> None:
    words = _words("a/S1 b/S1 | yes/S2 | d/S1 e/S1")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S1", "S2", "S1", "S1"]
    words = _words("a/S1 b/S1 | yes/S2 | d/S3 e/S3")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S1", "S2", "S3", "S3"]


def test_a_boundary_word_goes_with_the_nearer_pause() -> None:
    # "c" is labelled S2, but it is 0.05 s after "b" and 0.6 s before S2's next word
    words = _words("a/S1 b/S1 c/S2 | d/S2 e/S2 f/S2")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S1", "S1", "S2", "S2", "S2"]
    # and the other way: S2's first word labelled S1 right before a pause it is not separated from
    words = _words("a/S1 b/S1 c/S1 | d/S1 e/S2 f/S2")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S1", "S1", "S2", "S2", "S2"]


def test_two_boundary_words_move_but_a_turn_keeps_one_word() -> None:
    words = _words("a/S1 b/S1 c/S2 d/S2 | e/S2 f/S2")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1"] * 4 + ["S2"] * 2
    # three words away: out of reach, the labels stay
    words = _words("a/S1 b/S2 c/S2 d/S2 | e/S2")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S2", "S2", "S2", "S2"]
    # a two-word turn is not emptied by a pause on its far side
    words = _words("a/S1 b/S1 c/S2 d/S2 | e/S1 f/S1")
    assert smooth_labels(_spans(words), [w.speaker for w in words]).count("S2") >= 1


def test_a_boundary_without_a_clearer_pause_stays() -> None:
    words = _words("a/S1 b/S1 | c/S2 d/S2")
    assert smooth_labels(_spans(words), [w.speaker for w in words]) == ["S1", "S1", "S2", "S2"]


def test_a_segment_spanning_two_speakers_is_split_where_the_speaker_changes() -> None:
    # Given Whisper's segments, the second holding the end of S1's turn and S2's
    seg0 = _segment(0, _words("hello/S1 there/S1"))
    seg1 = _segment(1, _words("how/S1 are/S1 you/S1 | fine/S2 thanks/S2", start=1.0))
    seg2 = _segment(2, _words("good/S1", start=4.0))
    # When turns are made
    out = speaker_turns([seg0, seg1, seg2])
    # Then the second segment is two, ids renumbered, texts and times from the words
    assert [(s.id, s.speaker, s.text) for s in out] == [
        (0, "S1", " hello there"), (1, "S1", " how are you"), (2, "S2", " fine thanks"), (3, "S1", " good"),
    ]
    assert out[1].t0 == seg1.t0 and out[1].t1 == seg1.words[2].t1
    assert out[2].t0 == seg1.words[3].t0 and out[2].t1 == seg1.t1
    assert all(s.avg_logprob == -0.2 for s in out)
    assert all({w.speaker for w in s.words} == {s.speaker} for s in out)
    # And the input is untouched
    assert seg1.id == 1 and len(seg1.words) == 5


def test_turns_smooth_then_split_and_number_by_first_appearance() -> None:
    # A spurious S3 on one word inside S2's turn disappears; no "S3" gap is left
    seg = _segment(0, _words("a/S2 b/S2 | c/S1 d/S3 e/S1 | f/S4 g/S4"))
    out = speaker_turns([seg])
    assert [(s.speaker, s.text) for s in out] == [("S1", " a b"), ("S2", " c d e"), ("S3", " f g")]


def test_segments_without_words_and_unlabelled_transcripts_are_kept() -> None:
    plain = [Segment(id=0, t0=0, t1=1, text=" hi"), Segment(id=1, t0=1, t1=2, text=" there")]
    assert speaker_turns(plain) == plain
    labelled = [Segment(id=0, t0=0, t1=1, text=" hi", speaker="S1"), _segment(1, _words("x/S2 y/S2", start=2))]
    assert [(s.id, s.speaker) for s in speaker_turns(labelled)] == [(0, "S1"), (1, "S2")]
    assert split_turns([]) == [] and speaker_turns([]) == []


def test_assign_speakers_splits_a_segment_across_a_voice_change(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a "model" with voice A before 5 s and B after, and one Whisper segment across 5 s
    def fake_embed(self, audio, spans, voiced=None):
        return np.array([[1.0, 0.0] if (a + b) / 2 < 5.0 else [0.0, 1.0] for a, b in spans])

    monkeypatch.setattr(Diarizer, "embed", fake_embed)
    words = [Word(text=f" a{i}", t0=1.0 + i * 0.4, t1=1.3 + i * 0.4) for i in range(5)]
    words += [Word(text=f" b{i}", t0=6.0 + i * 0.4, t1=6.3 + i * 0.4) for i in range(5)]
    segment = Segment(id=0, t0=1.0, t1=8.0, text="".join(w.text for w in words), words=words)
    audio = np.zeros(16000 * 9, dtype=np.float32)
    # Then the raw labels keep one segment with one label, and the turns split it
    raw = Diarizer().label_words_only(audio, [segment])
    assert len(raw) == 1 and raw[0].speaker == "S1"
    out = Diarizer().assign_speakers(audio, [segment])
    assert [(s.id, s.speaker, s.text) for s in out] == [(0, "S1", " a0 a1 a2 a3 a4"), (1, "S2", " b0 b1 b2 b3 b4")]
