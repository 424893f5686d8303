"""Quality profiles: what fast / balanced / precise mean on each device."""

from __future__ import annotations

from dataclasses import dataclass

from grabadora.models import QualityProfile


@dataclass(frozen=True)
class DecodeProfile:
    compute_type: str
    beam_size: int
    best_of: int


# CTranslate2 has no float16 on CPU, so the CPU profiles trade beam width and int8 against float32.
_PROFILES: dict[str, dict[QualityProfile, DecodeProfile]] = {
    "cpu": {
        QualityProfile.FAST: DecodeProfile("int8", beam_size=1, best_of=1),
        QualityProfile.BALANCED: DecodeProfile("int8", beam_size=5, best_of=5),
        QualityProfile.PRECISE: DecodeProfile("float32", beam_size=5, best_of=5),
    },
    "cuda": {
        QualityProfile.FAST: DecodeProfile("int8_float16", beam_size=1, best_of=1),
        QualityProfile.BALANCED: DecodeProfile("float16", beam_size=5, best_of=5),
        QualityProfile.PRECISE: DecodeProfile("float32", beam_size=5, best_of=5),
    },
}


def decode_profile(device: str, profile: QualityProfile) -> DecodeProfile:
    return _PROFILES["cuda" if device == "cuda" else "cpu"][profile]


@dataclass(frozen=True)
class LiveDecoding:
    """How a live session decodes on the device that runs it: the model copy, beam and window."""

    profile: QualityProfile  # which compute type the session's model copy is loaded with
    beam_size: int
    encoder_pad_s: float | None  # LiveTuning.encoder_pad_s: None is Whisper's own 30 s window


def live_decoding(device: str) -> LiveDecoding:
    """Every step re-decodes the buffer, so what a step may cost decides how it decodes.

    On a CPU a step must stay near a second (2 cores, `base`): greedy, with the encoder cut to the
    buffer. Both cost words: replayed at the same step paces (benchmarks/live_policy.py), beam 5
    over 30 s windows makes 14.5 % WER of the greedy cut encoder's 17.1 % on the 70 s Spanish
    reading, but its steps take about three times the CPU and break the latency targets there
    (docs/BENCHMARKS.md, "Live sessions"). On CUDA a step costs milliseconds, so the session
    decodes as file mode's `balanced` does.
    """
    if device == "cuda":
        return LiveDecoding(QualityProfile.BALANCED, beam_size=5, encoder_pad_s=None)
    return LiveDecoding(QualityProfile.FAST, beam_size=1, encoder_pad_s=1.0)
