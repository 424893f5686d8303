"""Decoding uploads: real recordings in, 16 kHz mono float32 out, or an error a person can act on."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from gpu_container.audio import SAMPLE_RATE, load_audio
from grabadora.errors import InvalidAudio

HOUR = 3600


def _recording(shared_audio: Path, name: str) -> Path:
    path = shared_audio / name
    if not path.is_file():
        pytest.skip(f"shared recording {name} not found in {shared_audio}")
    return path


def _assert_human(error: InvalidAudio, path: Path) -> None:
    # What the user reads in the `error` event: no OS error codes, no server paths.
    assert error.detail
    assert "Errno" not in error.detail
    assert str(path) not in error.detail


def _silent_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return path


@pytest.mark.parametrize("name", ["edge_aeneas_mono.empty_0bytes.wav", "edge_aeneas_mono.invalid.wav"])
def test_empty_or_corrupt_file_is_invalid_audio(shared_audio: Path, name: str) -> None:
    # Given a zero-byte file, or a WAV header cut short
    path = _recording(shared_audio, name)
    # When loading it / Then InvalidAudio with a message a person understands
    with pytest.raises(InvalidAudio) as caught:
        load_audio(str(path), max_seconds=HOUR)
    _assert_human(caught.value, path)
    assert "could not be decoded" in caught.value.detail


def test_wav_with_zero_samples_is_an_empty_array(shared_audio: Path) -> None:
    # Given a valid WAV header with no samples / When loading / Then an empty float32 array
    audio = load_audio(str(_recording(shared_audio, "edge_aeneas_mono.zero_samples.wav")), max_seconds=HOUR)
    assert isinstance(audio, np.ndarray)
    assert audio.dtype == np.float32
    assert audio.size == 0


def test_flac_decodes_to_16k_mono_float32(shared_audio: Path) -> None:
    # Given the 11-second JFK clip (FLAC) / When loading it
    audio = load_audio(str(_recording(shared_audio, "fw_jfk.flac")), max_seconds=HOUR)
    # Then 11 s at 16 kHz, one channel, float32 in [-1, 1], and not silence
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert audio.shape == (11 * SAMPLE_RATE,)
    assert float(np.abs(audio).max()) <= 1.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01


def test_8k_wav_is_resampled_to_16k(shared_audio: Path) -> None:
    # Given an 8 kHz 16-bit PCM recording
    path = _recording(shared_audio, "deepspeech_LDC93S1_pcms16le_1_8000.wav")
    with wave.open(str(path)) as src:
        assert src.getframerate() == 8000
        seconds = src.getnframes() / src.getframerate()
    # When loading it / Then the same duration at 16 kHz
    audio = load_audio(str(path), max_seconds=HOUR)
    assert audio.size == pytest.approx(seconds * SAMPLE_RATE, rel=0.01)


def test_text_file_named_mp3_is_invalid_audio(tmp_path: Path) -> None:
    # Given a text file with an audio extension
    path = tmp_path / "notes.mp3"
    path.write_text("these are meeting notes, not audio\n" * 50)
    # When loading it / Then InvalidAudio, not a crash from the decoder
    with pytest.raises(InvalidAudio) as caught:
        load_audio(str(path), max_seconds=HOUR)
    _assert_human(caught.value, path)


def test_audio_over_the_limit_is_invalid(shared_audio: Path) -> None:
    # Given an 11-second clip and a 5-second limit / When loading / Then refused as too long
    with pytest.raises(InvalidAudio) as caught:
        load_audio(str(_recording(shared_audio, "fw_jfk.flac")), max_seconds=5)
    assert "longer than" in caught.value.detail
    assert "limit" in caught.value.detail


def test_over_the_limit_message_states_the_actual_limit(shared_audio: Path) -> None:
    # Given a 5-second limit / Then the message says 5 (seconds), not "0 minute"
    with pytest.raises(InvalidAudio) as caught:
        load_audio(str(_recording(shared_audio, "fw_jfk.flac")), max_seconds=5)
    assert "0 minute" not in caught.value.detail
    assert re.search(r"\b5\b", caught.value.detail)


def test_limit_in_minutes_is_stated_in_minutes(tmp_path: Path) -> None:
    # Given 61 s of audio and a one-minute limit
    path = _silent_wav(tmp_path / "long.wav", seconds=61)
    # When loading / Then the message names the one-minute limit
    with pytest.raises(InvalidAudio, match="1 minute limit"):
        load_audio(str(path), max_seconds=60)


def test_audio_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    path = _silent_wav(tmp_path / "minute.wav", seconds=60)
    assert load_audio(str(path), max_seconds=60).size == 60 * SAMPLE_RATE
