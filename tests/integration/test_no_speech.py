"""Audio without speech ends at once and empty; speech is decoded as faster-whisper decodes it."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper import decode_audio

from gpu_container.transcriber import Transcriber, token_budget, transcribe_kwargs
from grabadora.models import TranscribeOptions

SR = 16000


@pytest.fixture(scope="module")
def tiny() -> Transcriber:
    t = Transcriber("tiny.en", "cpu")
    t.load()
    return t


def _speech_free() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    t = np.arange(10 * SR) / SR
    return {
        "silence": np.zeros(10 * SR, dtype=np.float32),
        "tone": (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
        "white noise": (0.2 * rng.standard_normal(10 * SR)).astype(np.float32),
    }


@pytest.mark.parametrize("name", ["silence", "tone", "white noise"])
def test_audio_without_speech_is_neither_detected_nor_decoded(tiny, name, monkeypatch) -> None:
    model = tiny.load()
    calls: list[str] = []
    monkeypatch.setattr(model, "transcribe", lambda *a, **k: calls.append("transcribe") or (iter(()), None))
    monkeypatch.setattr(model, "detect_language", lambda *a, **k: calls.append("detect") or ("en", 1.0, []))
    run = tiny.transcribe(_speech_free()[name], TranscribeOptions())
    assert list(run.segments) == [] and run.duration == 10.0
    assert calls == []


def test_the_silent_edge_clip_ends_empty(tiny, audio_dir) -> None:
    run = tiny.transcribe(decode_audio(str(audio_dir / "edge_aeneas_vad_zero.wav")), TranscribeOptions())
    assert list(run.segments) == []


def test_a_one_window_file_gets_a_token_budget_from_its_speech(tiny, audio_dir, monkeypatch) -> None:
    model = tiny.load()
    seen: list[dict] = []
    original = model.transcribe

    def spying(audio, **kwargs):  # noqa: ANN001, ANN202
        seen.append(kwargs)
        return original(audio, **kwargs)

    monkeypatch.setattr(model, "transcribe", spying)
    jfk = decode_audio(str(audio_dir / "fw_jfk.flac"))
    text = "".join(s.text for s in tiny.transcribe(jfk, TranscribeOptions()).segments)
    assert seen[-1]["max_new_tokens"] == token_budget(seen_speech_seconds(jfk))
    # the budget is far above what the speech needs, so the text is faster-whisper's own
    bare = "".join(s.text for s in original(jfk, **transcribe_kwargs(TranscribeOptions(), tiny.profile(TranscribeOptions().profile)))[0])
    assert text == bare
    # longer files (several windows) get none: a window's speech is not known up front
    tiny.transcribe(np.concatenate([jfk] * 3), TranscribeOptions())
    assert "max_new_tokens" not in seen[-1]


def seen_speech_seconds(audio: np.ndarray) -> float:
    from gpu_container.transcriber import speech_only

    return speech_only(audio).size / SR


def test_the_budget_is_twice_what_fast_speech_needs() -> None:
    # ~6 tokens a second with timestamps for fast speech; 10 s of speech may take 136
    assert token_budget(10.0) == 136 and token_budget(0.5) == 22
