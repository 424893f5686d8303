"""Decoding uploads to 16 kHz mono float32, with errors a person can act on."""

from __future__ import annotations

import av
import numpy as np
from faster_whisper import decode_audio

from grabadora.errors import InvalidAudio

SAMPLE_RATE = 16000


def load_audio(path: str, max_seconds: int) -> np.ndarray:
    """The file's first audio stream as 16 kHz mono samples; `InvalidAudio` if it has none."""
    try:
        with av.open(path, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise InvalidAudio("the file has no audio track")
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base and float(stream.duration * stream.time_base) > max_seconds:
                raise InvalidAudio(f"the audio is longer than the {_describe_limit(max_seconds)} limit")
        audio = decode_audio(path, sampling_rate=SAMPLE_RATE)
    except av.error.FFmpegError as e:
        raise InvalidAudio(
            "the file could not be decoded as audio (empty, truncated, or not an audio/video format)"
        ) from e
    if audio.size / SAMPLE_RATE > max_seconds:
        raise InvalidAudio(f"the audio is longer than the {_describe_limit(max_seconds)} limit")
    return audio.astype(np.float32, copy=False)


def _describe_limit(max_seconds: int) -> str:
    """'90 minute' for whole minutes, '45 second' otherwise."""
    if max_seconds >= 60 and max_seconds % 60 == 0:
        return f"{max_seconds // 60} minute"
    return f"{max_seconds} second"
