"""Quality profiles per device: what fast / balanced / precise mean to CTranslate2."""

from __future__ import annotations

import pytest

from gpu_container.profiles import decode_profile
from grabadora.models import QualityProfile


@pytest.mark.parametrize("device", ["cpu", "auto", "something-else"])
@pytest.mark.parametrize("profile", list(QualityProfile))
def test_cpu_profiles_never_use_float16(device: str, profile: QualityProfile) -> None:
    # Given any device that is not CUDA / Then no float16 compute type (CTranslate2 has none on CPU)
    assert "float16" not in decode_profile(device, profile).compute_type


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_fast_is_greedy(device: str) -> None:
    profile = decode_profile(device, QualityProfile.FAST)
    assert (profile.beam_size, profile.best_of) == (1, 1)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_balanced_uses_beam_five(device: str) -> None:
    assert decode_profile(device, QualityProfile.BALANCED).beam_size == 5


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_precise_is_at_least_as_thorough_as_balanced(device: str) -> None:
    precise = decode_profile(device, QualityProfile.PRECISE)
    balanced = decode_profile(device, QualityProfile.BALANCED)
    assert precise.beam_size >= balanced.beam_size
    assert precise.compute_type == "float32"


def test_cuda_balanced_uses_float16() -> None:
    assert decode_profile("cuda", QualityProfile.BALANCED).compute_type == "float16"


@pytest.mark.parametrize(("gpus", "expected"), [(0, "cpu"), (1, "cuda")])
def test_auto_device_resolves_to_the_real_device(monkeypatch: pytest.MonkeyPatch, gpus: int, expected: str) -> None:
    # Given CTranslate2 sees `gpus` CUDA devices
    from gpu_container import transcriber

    monkeypatch.setattr(transcriber.ctranslate2, "get_cuda_device_count", lambda: gpus)
    # When the worker is configured with device=auto / Then profiles are picked for the real device
    t = transcriber.Transcriber("tiny.en", device="auto")
    assert t.device == expected
    assert t.profile(QualityProfile.BALANCED).compute_type == ("float16" if gpus else "int8")
