"""The long-form path's planning: spans cut in pauses, pieces that resume, batch widths."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_container.long_form import (
    SAMPLE_RATE,
    LongFormPolicy,
    default_batch_size,
    merge_spans,
    next_spans,
    opening_cut,
)
from grabadora.models import QualityProfile

SECOND = SAMPLE_RATE


@pytest.fixture(scope="module")
def speech(audio_dir) -> np.ndarray:
    from faster_whisper import decode_audio

    return decode_audio(str(audio_dir / "pv_leopard_test_es.wav"), sampling_rate=SAMPLE_RATE)


def _with_pauses(speech: np.ndarray, repeats: int, pause_s: float) -> np.ndarray:
    pause = np.zeros(int(pause_s * SECOND), dtype=np.float32)
    return np.concatenate([part for _ in range(repeats) for part in (speech, pause)])


def test_stamps_are_joined_into_spans_of_at_most_thirty_seconds() -> None:
    stamps = [{"start": int(s * SECOND), "end": int((s + 8) * SECOND)} for s in (0, 8.5, 17, 25.5, 34)]
    spans = merge_spans(stamps)
    assert spans == [(0, 25 * SECOND), (int(25.5 * SECOND), 42 * SECOND)]
    # a pause longer than a second starts a new span, however short the span so far
    assert merge_spans([{"start": 0, "end": SECOND}, {"start": int(2.5 * SECOND), "end": 3 * SECOND}]) == [
        (0, SECOND), (int(2.5 * SECOND), 3 * SECOND)]
    assert all(end - start <= 30 * SECOND for start, end in spans)
    # one stamp longer than a span (VAD caps them at 30 s; merge_spans never makes one longer)
    assert merge_spans([{"start": 0, "end": 40 * SECOND}]) == [(0, 30 * SECOND)]


def test_spans_end_in_pauses_and_the_next_call_starts_after_them(speech) -> None:
    audio = _with_pauses(speech, 12, 2.0)  # ~128 s: 8.7 s of speech, 2 s of silence, repeated
    spans, resume = next_spans(audio, 0, 2)
    assert len(spans) == 2
    assert all(end - start <= 30 * SECOND for start, end in spans)
    assert spans[0][1] <= spans[1][0] and resume == spans[-1][1]
    # the resume point falls in a pause, so nothing is cut: the rest of the file picks up there
    later, _ = next_spans(audio, resume, 2)
    assert later[0][0] >= resume


def test_the_whole_file_is_covered_once_in_order(speech) -> None:
    audio = _with_pauses(speech, 12, 2.0)
    position, covered = 0, []
    while position < audio.size:
        spans, position = next_spans(audio, position, 4)
        covered += spans
    assert position == audio.size
    starts = [s for s, _ in covered]
    assert starts == sorted(starts)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(covered, covered[1:], strict=False))
    # every stretch of speech that VAD finds over the whole file is inside some span
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    for stamp in get_speech_timestamps(audio, VadOptions()):
        middle = (stamp["start"] + stamp["end"]) // 2
        assert any(start <= middle <= end for start, end in covered), stamp


def test_a_long_silence_moves_on_without_spans() -> None:
    silence = np.zeros(200 * SECOND, dtype=np.float32)
    spans, first = next_spans(silence, 0, 2)
    assert spans == [] and 0 < first < silence.size
    spans, second = next_spans(silence, first, 2)
    assert spans == [] and first < second <= silence.size


def test_the_opening_ends_in_the_first_pause_after_its_length(speech) -> None:
    audio = _with_pauses(speech, 10, 1.5)
    cut = opening_cut(audio, 20.0)
    assert 20 * SECOND <= cut <= 50 * SECOND
    # in a pause (silence, or a quiet gap between words): no word is cut in two
    assert np.abs(audio[cut - 800 : cut + 800]).max() < 0.05 * np.abs(speech).max()


def test_the_policy_keeps_short_files_and_the_fast_profile_sequential() -> None:
    policy = LongFormPolicy(batch_size=8, long_from_s=240)
    assert policy.applies(600, QualityProfile.BALANCED) and policy.applies(600, QualityProfile.PRECISE)
    assert not policy.applies(120, QualityProfile.BALANCED)
    assert not policy.applies(600, QualityProfile.FAST)
    assert not LongFormPolicy(batch_size=1).applies(600, QualityProfile.BALANCED)


def test_batch_width_follows_the_device_and_free_memory() -> None:
    assert default_batch_size("cpu") == 8
    assert default_batch_size("cuda", lambda: 140.0) == 16
    assert default_batch_size("cuda", lambda: 6.5) == 6
    assert default_batch_size("cuda", lambda: 1.0) == 4
    assert default_batch_size("cuda", lambda: None) == 8


def _word(text: str, start: float, end: float):  # noqa: ANN202
    from faster_whisper.transcribe import Word

    return Word(start=start, end=end, word=text, probability=0.9)


def test_a_batched_span_is_cut_into_sentences_by_its_words() -> None:
    from types import SimpleNamespace

    from gpu_container.long_form import sentences

    words = [_word(" Hola.", 0.0, 0.5), _word(" ¿Qué", 1.0, 1.3), _word(" tal?", 1.3, 1.8), _word(" Bien", 2.0, 2.4)]
    span = SimpleNamespace(start=0.0, end=2.5, text=" Hola. ¿Qué tal? Bien", words=words, avg_logprob=-0.2,
                           no_speech_prob=0.01, compression_ratio=1.1, temperature=0.0)
    parts = sentences(span)
    assert [p.text for p in parts] == [" Hola.", " ¿Qué tal?", " Bien"]
    assert [(p.start, p.end) for p in parts] == [(0.0, 0.5), (1.0, 1.8), (2.0, 2.4)]
    assert "".join(p.text for p in parts) == span.text  # nothing lost or repeated
    # a sentence longer than the limit is cut after its last clause before it
    long_words = [_word(f" w{i}{',' if i == 5 else ''}", i * 1.0, i * 1.0 + 0.8) for i in range(20)]
    long_span = SimpleNamespace(start=0.0, end=20.0, text="".join(w.word for w in long_words), words=long_words,
                                avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.1, temperature=0.0)
    parts = sentences(long_span, max_s=12.0)
    assert parts[0].text.endswith("w5,") and all(p.end - p.start <= 12.0 for p in parts)
    assert "".join(p.text for p in parts) == long_span.text
    # without words the span stays whole
    bare = SimpleNamespace(**{**vars(span), "words": None})
    assert [(p.start, p.end, p.text) for p in sentences(bare, offset=10.0)] == [(10.0, 12.5, span.text)]
    # times move by the offset of the stretch the batch decoded
    assert [(p.start, p.end) for p in sentences(span, offset=100.0)][0] == (100.0, 100.5)
