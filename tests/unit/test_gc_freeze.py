"""Start-up objects are kept out of full GC passes (faster-whisper's decode_audio runs one per job)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from grabadora.process import freeze_startup_objects
from grabadora.settings import get_settings


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    get_settings.cache_clear()
    yield
    gc.unfreeze()
    get_settings.cache_clear()


def _walked_by_full_passes(obj: object) -> bool:
    """Whether a full collection traverses `obj` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_a_full_collection_skips_what_existed_at_start_up() -> None:
    # Given a process holding many long-lived objects, as grabadora dev's does
    ballast = [{"item": i, "attrs": [i, str(i)]} for i in range(100_000)]
    assert _walked_by_full_passes(ballast)
    # When start-up ends
    freeze_startup_objects()
    # Then they are frozen: a full pass no longer walks them
    assert gc.get_freeze_count() >= len(ballast)
    assert not _walked_by_full_passes(ballast) and not _walked_by_full_passes(ballast[-1])
    # And garbage made later is still collected
    cycle: list = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


def test_the_setting_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRABADORA_GC_FREEZE", "false")
    ballast = [[i] for i in range(1000)]
    freeze_startup_objects()
    assert gc.get_freeze_count() == 0 and _walked_by_full_passes(ballast)
