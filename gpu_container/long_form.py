"""Long files: the opening decoded as bare faster-whisper would, the rest in batches.

Bare faster-whisper runs Silero VAD over the whole file before its first window, so its first
word of an hour-long file waits for an hour of VAD; its batched mode
(`BatchedInferencePipeline`) is faster overall but computes the features of every chunk and
decodes a whole batch before its first word. Here a long file is cut into *pieces*:

1. the opening (about `OPENING_S` of audio, cut in a pause) through `WhisperModel.transcribe`,
   exactly as a short file is: its words stream as each 30-s window is decoded;
2. then pieces of 2, 4, 8, ... speech spans (up to `batch_size`), each span at most 30 s of
   audio cut at pauses that Silero VAD finds, decoded together by `BatchedInferencePipeline`.

Each piece runs VAD only over its own stretch of audio and computes only its own features, so
memory stays flat in the file's length, and its end is a point a retry can resume from
(`Piece.end_s`): a worker killed mid-file redoes at most the piece in flight.

When the path applies (length, profile) is `LongFormPolicy.applies`; the figures it rests on are
in docs/BENCHMARKS.md ("Long recordings") and the decision in docs/DECISIONS.md.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.vad import VadOptions, get_speech_timestamps

from grabadora.models import QualityProfile, Segment

SAMPLE_RATE = 16000
SPAN_S = 30.0  # Whisper's window: one span is one batch item
OPENING_S = 60.0  # decoded sequentially before the first batch
LONG_FROM_S = 240.0  # shorter files are decoded sequentially end to end
FIRST_WIDTH = 2  # the first batch after the opening: doubled each piece up to the batch size
# Speech stamps further apart than this are separate spans. Measured (tiny.en, the English clips
# with 1.5-s pauses, 4.5 min; base, 5.4 min of the Spanish reading): joined whatever the pause,
# 8.4 % / 13.2 % WER; at most 1 s, 5.4 % / 12.2 %; at most 0.6 s, 5.4 % / 13.1 %.
MAX_PAUSE_S = 1.0
# A span is only taken when its speech ended this long before the end of the stretch VAD saw
# (speech running into the edge may go on past it: it starts the next piece instead).
_EDGE_S = 1.0
# VAD as BatchedInferencePipeline runs it: speech cut at 30 s, short pauses kept as boundaries.
_SPAN_VAD = VadOptions(max_speech_duration_s=SPAN_S, min_silence_duration_ms=160)


@dataclass(frozen=True)
class Piece:
    """Consecutive segments of a transcription and the audio time they cover up to: decoding
    can restart at `end_s` with the segment id after this piece's last one and batches of
    `next_width` spans (the same pieces, so the same words, as an uninterrupted run)."""

    segments: Iterator[Segment]
    end_s: float
    next_width: int = FIRST_WIDTH


@dataclass(frozen=True)
class LongFormPolicy:
    """When a file takes the batched path, and how wide its batches are."""

    batch_size: int = 8
    long_from_s: float = LONG_FROM_S
    opening_s: float = OPENING_S

    def applies(self, duration_s: float, profile: QualityProfile) -> bool:
        # `fast` is beam 1: batched decoding has no temperature fallback, and at beam 1 that
        # cost 8 WER points on the 9.4-minute reading (issue 18); it stays sequential.
        return self.batch_size > 1 and duration_s >= self.long_from_s and profile is not QualityProfile.FAST


def merge_spans(stamps: list[dict[str, int]], max_s: float = SPAN_S, max_pause_s: float = MAX_PAUSE_S) -> list[tuple[int, int]]:
    """Consecutive VAD speech stamps (samples) joined into spans of at most `max_s` seconds,
    each from its first speech's start to its last speech's end; a pause longer than
    `max_pause_s` starts a new span (decoded without timestamp tokens, Whisper tends to end
    its text at a long pause and lose the speech after it)."""
    limit, pause = int(max_s * SAMPLE_RATE), int(max_pause_s * SAMPLE_RATE)
    spans: list[tuple[int, int]] = []
    for stamp in stamps:
        start, end = stamp["start"], stamp["end"]
        if spans and end - spans[-1][0] <= limit and start - spans[-1][1] <= pause:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, min(end, start + limit)))
    return spans


def next_spans(audio: np.ndarray, start: int, count: int) -> tuple[list[tuple[int, int]], int]:
    """Up to `count` speech spans from sample `start` on, and the sample to continue from.

    VAD runs over `count` spans' worth of audio plus one span of look-ahead; a span whose speech
    reaches the edge of that stretch is left for the next call (it may go on).
    """
    stop = min(audio.size, start + int((count + 1) * SPAN_S * SAMPLE_RATE))
    at_end = stop >= audio.size
    stamps = [
        {"start": s["start"] + start, "end": s["end"] + start}
        for s in get_speech_timestamps(audio[start:stop], _SPAN_VAD)
    ]
    edge = stop - int(_EDGE_S * SAMPLE_RATE)
    merged = merge_spans(stamps)
    spans = [span for span in merged if at_end or span[1] < edge][:count]
    if spans:
        resume = stop if at_end and len(spans) == len(merged) else spans[-1][1]
        return spans, resume
    if at_end:
        return [], audio.size
    # Nothing closed in the stretch: continue from the first speech (at least 29 s ahead,
    # since a stamp is at most 30 s long) or, in a stretch without speech, from near its end.
    return [], stamps[0]["start"] if stamps else edge


def opening_cut(audio: np.ndarray, opening_s: float) -> int:
    """Where the sequential opening ends: in the first pause after `opening_s` (within one more
    window), so no word is cut in two."""
    target = int(opening_s * SAMPLE_RATE)
    stop = min(audio.size, target + int(SPAN_S * SAMPLE_RATE))
    stamps = get_speech_timestamps(audio[:stop], _SPAN_VAD)
    for before, after in itertools.pairwise(stamps):
        if before["end"] >= target:
            return (before["end"] + after["start"]) // 2
    if stamps and stamps[-1]["end"] < stop - int(_EDGE_S * SAMPLE_RATE):
        return stamps[-1]["end"]
    return stop


def long_form_pieces(
    model: WhisperModel,
    audio: np.ndarray,
    kwargs: dict[str, Any],
    make_segment: Callable[[int, Any], Segment],
    policy: LongFormPolicy,
    *,
    start_s: float = 0.0,
    first_id: int = 0,
    width: int = FIRST_WIDTH,
) -> Iterator[Piece]:
    """The pieces of a long transcription from `start_s` (0: from the opening; else resuming a
    file whose segments before `first_id` are already decoded)."""
    ids = itertools.count(first_id)
    position = int(start_s * SAMPLE_RATE)
    if position == 0:
        cut = opening_cut(audio, policy.opening_s)
        raw, _info = model.transcribe(audio[:cut], **kwargs)
        yield Piece((make_segment(next(ids), s) for s in raw), round(cut / SAMPLE_RATE, 3), width)
        position = cut
    batched = BatchedInferencePipeline(model)
    batch_kwargs = {k: v for k, v in kwargs.items() if k in _BATCHED_ARGS}
    width = min(width, policy.batch_size)
    while position < audio.size:
        spans, position = next_spans(audio, position, width)
        if spans:
            # One batch item per span, its short pauses kept, no timestamp tokens. On the
            # 10-minute Spanish reading (before spans were split at pauses over 1 s): 13.4 % WER
            # against bare's 13.3 %; with timestamp tokens 12 points worse; with faster-whisper's
            # own VAD joining each chunk's speech without its pauses, 17.1 %. Now 11.4-11.8 %
            # against bare's 13.1-13.5 % (docs/BENCHMARKS.md, "Long recordings").
            raw, _info = batched.transcribe(
                audio,
                clip_timestamps=[{"start": s / SAMPLE_RATE, "end": e / SAMPLE_RATE} for s, e in spans],
                batch_size=len(spans),
                without_timestamps=True,
                vad_filter=False,
                **batch_kwargs,
            )
            width = min(width * 2, policy.batch_size)
            parts = (part for segment in raw for part in sentences(segment))
            yield Piece((make_segment(next(ids), p) for p in parts), round(position / SAMPLE_RATE, 3), width)
        else:
            yield Piece(iter(()), round(position / SAMPLE_RATE, 3), width)


_SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
_CLAUSE_END = (",", ";", ":", "、", "，")
MAX_SENTENCE_S = 12.0


@dataclass(frozen=True)
class _Part:
    """A sentence of a batched segment, shaped as faster-whisper's segments are."""

    start: float
    end: float
    text: str
    words: list[Any]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float


def sentences(segment: Any, max_s: float = MAX_SENTENCE_S, offset: float = 0.0) -> list[Any]:
    """A batched segment (a whole chunk, up to 30 s of speech) cut after each sentence's last
    word, and where a sentence runs past `max_s`, after its last clause (or word) before that;
    a segment without words is kept whole. Times are moved by `offset` seconds."""
    words = [dataclasses.replace(w, start=w.start + offset, end=w.end + offset) for w in segment.words or []]
    if not words:
        return [
            _Part(segment.start + offset, segment.end + offset, segment.text, [], segment.avg_logprob,
                  segment.no_speech_prob, segment.compression_ratio, segment.temperature)
        ]
    groups: list[list[Any]] = [[]]
    for word in words:
        group = groups[-1]
        if group and word.end - group[0].start > max_s:
            clause = max((i for i, w in enumerate(group) if w.word.strip().endswith(_CLAUSE_END)), default=len(group) - 1)
            groups[-1], rest = group[: clause + 1], group[clause + 1 :]
            groups.append(rest)
            group = rest
        group.append(word)
        if word.word.strip().endswith(_SENTENCE_END):
            groups.append([])
    return [
        _Part(
            start=group[0].start if i else min(segment.start + offset, group[0].start),
            end=group[-1].end,
            text="".join(w.word for w in group),
            words=group,
            avg_logprob=segment.avg_logprob,
            no_speech_prob=segment.no_speech_prob,
            compression_ratio=segment.compression_ratio,
            temperature=segment.temperature,
        )
        for i, group in enumerate(g for g in groups if g)
    ]


# What BatchedInferencePipeline.transcribe takes of the sequential arguments (it has no
# condition_on_previous_text, and no temperature fallback: the first temperature is used).
_BATCHED_ARGS = {"language", "task", "hotwords", "initial_prompt", "beam_size", "best_of", "word_timestamps", "temperature"}


def default_batch_size(device: str, free_memory_gib: Callable[[], float | None] | None = None) -> int:
    """Batch width when the settings name none: 8 on a CPU (faster-whisper's default; wider
    batches did not pay on 2 cores), and on a GPU as many as its free memory holds at about
    1 GiB a sequence (a large-v3 float16 beam-5 decode; smaller models fit far more), from 4 to 16."""
    if device != "cuda":
        return 8
    free = (free_memory_gib or _free_cuda_memory_gib)()
    if free is None:
        return 8
    return max(4, min(16, int(free)))


def _free_cuda_memory_gib() -> float | None:
    """The first GPU's free memory as nvidia-smi reports it (the worker image has no torch)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits", "-i", "0"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
        return float(out.strip().splitlines()[0]) / 1024
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
