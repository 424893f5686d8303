"""faster-whisper behind a small interface: models loaded once, segments yielded as they decode."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel

from gpu_container.model_store import resolve_model
from gpu_container.profiles import DecodeProfile, decode_profile
from grabadora.models import QualityProfile, Segment, TranscribeOptions, Word

__all__ = ["Transcriber", "TranscriptionRun", "transcribe_kwargs"]


def transcribe_kwargs(options: TranscribeOptions, profile: DecodeProfile) -> dict[str, Any]:
    """The exact arguments passed to `WhisperModel.transcribe` (benchmarks and tests reuse them)."""
    return {
        "language": options.language,
        "task": options.task,
        "hotwords": options.hotwords,
        "initial_prompt": options.initial_prompt,
        "beam_size": profile.beam_size,
        "best_of": profile.best_of,
        # Word alignment as asked (on unless the caller turns it off): with it each word is one
        # delta; without it a whole segment is.
        "word_timestamps": options.word_timestamps,
        "vad_filter": True,
        "condition_on_previous_text": True,
        **({"temperature": options.temperature} if options.temperature is not None else {}),
    }


@dataclass
class TranscriptionRun:
    """One transcription in progress: what was detected, and the segments as they come."""

    language: str | None
    language_probability: float | None
    duration: float
    model: str
    segments: Iterator[Segment]


def resolve_device(device: str) -> str:
    """'auto' means CUDA when CTranslate2 sees a GPU, else CPU; profiles are chosen per real device."""
    if device != "auto":
        return device
    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


class Transcriber:
    """Keeps Whisper models loaded across jobs, one per (model, compute type)."""

    def __init__(self, model: str, device: str = "cpu", cache_dir: str | None = None, cpu_threads: int = 0) -> None:
        self._model_name = model
        self._device = resolve_device(device)
        self._cache_dir = cache_dir
        self._cpu_threads = cpu_threads
        self._models: dict[tuple[Path, str], WhisperModel] = {}
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def device(self) -> str:
        return self._device

    def profile(self, quality: QualityProfile) -> DecodeProfile:
        return decode_profile(self._device, quality)

    def load(self, quality: QualityProfile = QualityProfile.BALANCED) -> WhisperModel:
        """The model for a profile, loading it on first use."""
        profile = self.profile(quality)
        path = resolve_model(self._model_name, self._cache_dir)
        key = (path, profile.compute_type)
        with self._lock:
            if key not in self._models:
                self._models[key] = WhisperModel(
                    str(path), device=self._device, compute_type=profile.compute_type, cpu_threads=self._cpu_threads
                )
            return self._models[key]

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> TranscriptionRun:
        """Start decoding; segments are produced lazily, as faster-whisper yields them."""
        duration = audio.size / 16000
        if audio.size == 0:
            return TranscriptionRun(options.language, None, 0.0, self._model_name, iter(()))
        model = self.load(options.profile)
        kwargs = transcribe_kwargs(options, self.profile(options.profile))
        raw_segments, info = model.transcribe(audio, **kwargs)
        return TranscriptionRun(
            language=info.language,
            language_probability=round(info.language_probability, 4) if info.language_probability else None,
            duration=round(duration, 3),
            model=self._model_name,
            segments=(_segment(i, s) for i, s in enumerate(raw_segments)),
        )


def _segment(index: int, raw: Any) -> Segment:
    words = [
        Word(text=w.word, t0=round(w.start, 3), t1=round(w.end, 3), probability=round(w.probability, 4))
        for w in (raw.words or [])
    ]
    return Segment(
        id=index,
        t0=round(raw.start, 3),
        t1=round(raw.end, 3),
        text=raw.text,
        words=words,
        avg_logprob=round(raw.avg_logprob, 4),
        no_speech_prob=round(raw.no_speech_prob, 4),
        compression_ratio=round(raw.compression_ratio, 4),
        temperature=raw.temperature,
    )
