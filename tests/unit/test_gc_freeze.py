"""`freeze_startup_objects`: what start-up left alive is frozen out of full GC passes, what it
left as garbage is collected first (a frozen cycle would never be freed). (That frozen objects
are skipped by later passes is CPython's `gc.freeze`.)
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from grabadora.process import freeze_startup_objects


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only a full collection frees it


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _startup_garbage() -> weakref.ref:
    node = _Node()
    return weakref.ref(node)  # unreachable once this returns, but for the cycle


def test_start_up_garbage_is_freed_and_what_lives_is_frozen() -> None:
    gc.disable()  # no automatic pass may free the garbage for us
    try:
        # Given start-up that leaves long-lived objects and some cyclic garbage behind
        kept = [_Node() for _ in range(1000)]
        garbage = _startup_garbage()
        assert garbage() is not None
        # When start-up ends
        freeze_startup_objects()
    finally:
        gc.enable()
    # Then the garbage was collected, not frozen forever, and the live objects are frozen
    assert garbage() is None
    assert gc.get_freeze_count() >= len(kept)
