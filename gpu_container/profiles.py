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
