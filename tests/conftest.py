"""Fixtures shared by every tier: where the shared recordings are, and reference transcripts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_AUDIO = REPO.parent / "shared" / "audio"


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    if not (SHARED_AUDIO / "references.json").is_file():
        pytest.skip(f"shared recordings not found at {SHARED_AUDIO}")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def references(audio_dir: Path) -> dict:
    return json.loads((audio_dir / "references.json").read_text())


def normalise(text: str, language: str) -> str:
    """Whisper's normalisers: English for English, the basic one (accents kept) otherwise."""
    from whisper_normalizer.basic import BasicTextNormalizer
    from whisper_normalizer.english import EnglishTextNormalizer

    normaliser = EnglishTextNormalizer() if language == "en" else BasicTextNormalizer()
    return re.sub(r"\s+", " ", normaliser(text)).strip()


def wer(reference: str, hypothesis: str, language: str) -> float:
    import jiwer

    return jiwer.wer(normalise(reference, language), normalise(hypothesis, language))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier from its folder, so `-m "not e2e"` and friends work."""
    for item in items:
        tier = Path(str(item.fspath)).relative_to(REPO / "tests").parts[0]
        if tier in ("integration", "e2e", "reliability"):
            item.add_marker(getattr(pytest.mark, tier))
