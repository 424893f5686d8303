"""faster-whisper behind a small interface: models loaded once, segments yielded as they decode."""

from __future__ import annotations

import copy
import itertools
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel

from gpu_container.long_form import FIRST_WIDTH, LongFormPolicy, Piece, default_batch_size, long_form_pieces
from gpu_container.model_store import resolve_model
from gpu_container.profiles import DecodeProfile, decode_profile
from grabadora.models import LanguageSource, QualityProfile, Segment, TranscribeOptions, Word

__all__ = ["LanguageChoice", "Resume", "Transcriber", "TranscriptionRun", "choose_language", "transcribe_kwargs"]


SAMPLE_RATE = 16000
WINDOW_S = 30  # Whisper's encoder window: one language decision per window
# Below this probability (Whisper's own, for the language chosen) the choice is flagged unsure
# and, when restricted to the user's languages, the first preferred language is used instead.
# Measured in docs/BENCHMARKS.md ("Language identification", `base`): of 50 clips and cuts,
# the 45 right unrestricted choices had 0.52-1.00 (none under 0.5), the 5 wrong ones 0.21-0.76
# (3 under 0.5; all five on Spanish cuts of 2-4 s).
UNSURE_BELOW = 0.5
# Among the user's languages: the best one is trusted, even under UNSURE_BELOW, when it holds
# this share of the probability given to all of them (a clear winner among the allowed ones)
# and Whisper gives it at least CLEAR_AT_LEAST (below, the evidence is noise: a 2-s Spanish cut
# gave fr 0.21, en 0.12, es 0.02, and English would have won on share alone).
CLEAR_SHARE = 0.8
CLEAR_AT_LEAST = 0.2
# Long files: this many 30-s windows of speech, spread over the file, are listened to, each
# found by VAD in a stretch of SAMPLE_STRETCH_S (VAD over a whole file: 1.9 s measured for 10 minutes, so ~11 s for an hour).
DETECTION_WINDOWS = 3
SAMPLE_STRETCH_S = 90
# A long file's opening alone decides its language from this probability on: the wrong choices
# measured unrestricted had 0.21-0.76 (docs/BENCHMARKS.md, "Language identification").
SURE_AT = 0.9

@dataclass(frozen=True)
class LanguageChoice:
    """The language a transcription runs in, and why."""

    language: str | None
    probability: float | None  # Whisper's probability of `language` (None when forced)
    source: LanguageSource
    unsure: bool


def choose_language(
    probabilities: Sequence[tuple[str, float]],
    allowed: Sequence[str] | None,
    *,
    unsure_below: float = UNSURE_BELOW,
    clear_share: float = CLEAR_SHARE,
    clear_at_least: float = CLEAR_AT_LEAST,
) -> LanguageChoice:
    """Pick the language from Whisper's per-language probabilities.

    Unrestricted (`allowed` empty or None): the most probable language, unsure under
    `unsure_below`. Restricted: the most probable of the `allowed` ones when Whisper gives it at
    least `unsure_below`, or when it clearly beats the other allowed ones (`clear_share` of
    their summed probability, and at least `clear_at_least` itself); otherwise the first
    allowed language (the user's preferred one), flagged unsure.
    """
    ranked = sorted(probabilities, key=lambda lp: lp[1], reverse=True)
    if not allowed:
        if not ranked:
            return LanguageChoice(None, None, "detected", True)
        language, p = ranked[0]
        return LanguageChoice(language, round(p, 4), "detected", p < unsure_below)
    by_language = dict(probabilities)
    candidates = sorted(((lang, by_language.get(lang, 0.0)) for lang in allowed), key=lambda lp: lp[1], reverse=True)
    best, p = candidates[0]
    total = sum(q for _, q in candidates)
    if p >= unsure_below:
        return LanguageChoice(best, round(p, 4), "detected", False)
    if len(candidates) > 1 and p >= clear_at_least and p / total >= clear_share:
        return LanguageChoice(best, round(p, 4), "detected", True)
    preferred = allowed[0]
    return LanguageChoice(preferred, round(by_language.get(preferred, 0.0), 4), "preferred_fallback", True)


def detection_windows(audio: np.ndarray, speech: np.ndarray | None = None, windows: int = DETECTION_WINDOWS) -> list[np.ndarray]:
    """Up to `windows` 30-s windows of `speech` (the audio's speech, VAD-joined; the audio itself
    when none was found), spread evenly from the start to the end without overlapping."""
    source = speech if speech is not None and speech.size >= SAMPLE_RATE // 2 else audio
    size = WINDOW_S * SAMPLE_RATE
    count = min(windows, max(1, source.size // size))  # whole windows that fit, at least one
    if count == 1:
        return [source[:size]]
    last = source.size - size
    starts = [round(i * last / (count - 1)) for i in range(count)]
    return [source[s : s + size] for s in starts]


# A window's text cannot need more tokens than this per second of its speech plus a margin
# (an estimate, not measured: fast speech is about 6 tokens a second with timestamps; 12 leaves twice that): a decode that
# runs on is a repetition loop over music or noise, which Whisper then discards (compression
# ratio) after paying for up to 448 tokens of beam search. Used for files of one window.
TOKENS_PER_SPEECH_SECOND = 12
TOKEN_MARGIN = 16


def token_budget(speech_s: float) -> int:
    return math.ceil(TOKENS_PER_SPEECH_SECOND * speech_s) + TOKEN_MARGIN


def speech_only(audio: np.ndarray) -> np.ndarray:
    """The audio's speech, joined, as faster-whisper's Silero VAD finds it (empty when none)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(audio, VadOptions())
    if not stamps:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([audio[s["start"] : s["end"]] for s in stamps])


def sampled_speech(audio: np.ndarray, windows: int = DETECTION_WINDOWS) -> np.ndarray:
    """Speech to detect the language from without running VAD over a whole long file: the
    speech of `windows` stretches of `SAMPLE_STRETCH_S` spread from start to end, joined (the
    whole file's speech when it is no longer than those stretches together)."""
    stretch = SAMPLE_STRETCH_S * SAMPLE_RATE
    if audio.size <= windows * stretch:
        return speech_only(audio)
    last = audio.size - stretch
    starts = [round(i * last / (windows - 1)) for i in range(windows)]
    return np.concatenate([speech_only(audio[s : s + stretch])[: WINDOW_S * SAMPLE_RATE] for s in starts])


def language_probabilities(
    model: WhisperModel, audio: np.ndarray, windows: int = DETECTION_WINDOWS, speech: np.ndarray | None = None
) -> list[tuple[str, float]]:
    """Whisper's probability of every language, averaged over up to `windows` windows of speech
    (`speech`: the audio's speech when the caller already has it)."""
    chunks = detection_windows(audio, speech if speech is not None else sampled_speech(audio, windows), windows)
    totals: dict[str, float] = {}
    for chunk in chunks:
        _language, _p, probs = model.detect_language(audio=chunk)
        for language, p in probs:
            totals[language] = totals.get(language, 0.0) + p / len(chunks)
    return sorted(totals.items(), key=lambda lp: lp[1], reverse=True)


def restricted_detection(model: Any, allowed: Sequence[str] | None) -> Any:
    """The model as a live session sees it: a shallow copy whose `detect_language` answers with
    `choose_language` among `allowed` (the model itself when there is nothing to restrict)."""
    if not allowed:
        return model
    restricted = copy.copy(model)  # the same weights; only this copy answers differently
    detect = model.detect_language

    def detect_language(*args: Any, **kwargs: Any) -> tuple[str, float, list[tuple[str, float]]]:
        _language, _p, probabilities = detect(*args, **kwargs)
        choice = choose_language(probabilities, allowed)
        return choice.language, choice.probability or 0.0, probabilities

    restricted.detect_language = detect_language
    return restricted


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


@dataclass(frozen=True)
class Resume:
    """Where an interrupted transcription goes on: at `start_s` of the audio, numbering segments
    from `first_id`, in the language an earlier attempt chose."""

    start_s: float
    first_id: int
    language: LanguageChoice
    width: int = FIRST_WIDTH


@dataclass
class TranscriptionRun:
    """One transcription in progress: what was detected, and the segments as they come, in
    pieces (a piece's end is where a retry may resume; see `long_form`)."""

    language: str | None
    language_probability: float | None
    duration: float
    model: str
    pieces: Iterator[Piece]
    language_source: LanguageSource | None = None
    language_unsure: bool = False
    choice: LanguageChoice | None = None
    resumable: bool = False  # True when pieces end where decoding can restart (the long path)

    @property
    def segments(self) -> Iterator[Segment]:
        """Every segment, in order, whatever the pieces."""
        return itertools.chain.from_iterable(piece.segments for piece in self.pieces)


def resolve_device(device: str) -> str:
    """'auto' means CUDA when CTranslate2 sees a GPU, else CPU; profiles are chosen per real device."""
    if device != "auto":
        return device
    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


class Transcriber:
    """Keeps Whisper models loaded across jobs, one per (model, compute type)."""

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        cache_dir: str | None = None,
        cpu_threads: int = 0,
        long_form: LongFormPolicy | None = None,
    ) -> None:
        self._model_name = model
        self._device = resolve_device(device)
        self._cache_dir = cache_dir
        self._cpu_threads = cpu_threads
        self._models: dict[tuple[Path, str], WhisperModel] = {}
        self._lock = threading.Lock()
        self.long_form = long_form if long_form is not None else LongFormPolicy(batch_size=default_batch_size(self._device))

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

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions, resume: Resume | None = None) -> TranscriptionRun:
        """Start decoding; segments are produced lazily, as faster-whisper yields them.

        Audio without speech (Silero VAD finds none) ends at once and empty: no language
        detection, no decoding, so nothing is spent on music, tones, noise or silence that the
        VAD rejects. Long files take the long-form path (`long_form`); `resume` continues one.
        """
        duration = round(audio.size / SAMPLE_RATE, 3)
        if audio.size == 0:
            return TranscriptionRun(options.language, None, 0.0, self._model_name, iter(()))
        long = self.long_form.applies(duration, options.profile)
        speech = None if long else speech_only(audio)
        if speech is not None and speech.size == 0:
            return TranscriptionRun(
                options.language, None, duration, self._model_name, iter(()), "forced" if options.language else None
            )
        model = self.load(options.profile)
        if resume is not None:
            choice = resume.language
        elif long:
            choice = self.choose_language_early(model, audio, options)
        else:
            choice = self.choose_language(model, audio, options, speech)
        kwargs = transcribe_kwargs(options.model_copy(update={"language": choice.language}), self.profile(options.profile))
        probability = choice.probability if choice.source != "forced" else None
        if long:
            language = choice.language or "en"  # an English-only model has no language to choose
            kwargs["language"] = language
            pieces = long_form_pieces(
                model,
                audio,
                kwargs,
                _segment,
                self.long_form,
                start_s=resume.start_s if resume else 0.0,
                first_id=resume.first_id if resume else 0,
                width=resume.width if resume else FIRST_WIDTH,
            )
        else:
            if duration <= WINDOW_S and speech is not None:
                kwargs["max_new_tokens"] = token_budget(speech.size / SAMPLE_RATE)
            raw_segments, info = model.transcribe(audio, **kwargs)
            language = info.language
            if choice.language is None:  # an English-only model: faster-whisper says English
                probability = round(info.language_probability, 4) if info.language_probability else None
            pieces = iter([Piece((_segment(i, s) for i, s in enumerate(raw_segments)), duration)])
        return TranscriptionRun(
            language=language,
            language_probability=probability,
            duration=duration,
            model=self._model_name,
            pieces=pieces,
            language_source=choice.source,
            language_unsure=choice.unsure,
            choice=choice,
            resumable=long,
        )

    def choose_language_early(self, model: WhisperModel, audio: np.ndarray, options: TranscribeOptions) -> LanguageChoice:
        """`choose_language` for a long file, whose first words should not wait for windows from
        its middle and end: the opening's speech alone decides when Whisper is sure of it
        (at least `SURE_AT`, among the allowed languages); otherwise the spread windows do."""
        if options.language or not model.model.is_multilingual:
            return self.choose_language(model, audio, options)
        opening = speech_only(audio[: SAMPLE_STRETCH_S * SAMPLE_RATE])[: WINDOW_S * SAMPLE_RATE]
        if opening.size >= SAMPLE_RATE // 2:
            _language, _p, probabilities = model.detect_language(audio=opening)
            choice = choose_language(probabilities, options.allowed_languages)
            if choice.source == "detected" and (choice.probability or 0.0) >= SURE_AT:
                return choice
        return self.choose_language(model, audio, options)

    def choose_language(
        self, model: WhisperModel, audio: np.ndarray, options: TranscribeOptions, speech: np.ndarray | None = None
    ) -> LanguageChoice:
        """Forced when the options name a language; else detected over several windows of speech,
        among `options.allowed_languages` when there are some (see `choose_language`)."""
        if options.language:
            return LanguageChoice(options.language, None, "forced", False)
        if not model.model.is_multilingual:
            return LanguageChoice(None, None, "detected", False)
        return choose_language(language_probabilities(model, audio, speech=speech), options.allowed_languages)


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
