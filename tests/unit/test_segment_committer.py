"""The worker's background committer: in order, stops at the first failure, never loses a decoded segment."""

from __future__ import annotations

import threading

import pytest

from gpu_container.job import _SegmentCommitter
from grabadora.models import Segment


def _segment(i: int) -> Segment:
    return Segment(id=i, t0=float(i), t1=float(i + 1), text=f" s{i}", words=[])


def test_segments_are_committed_in_order_off_the_calling_thread() -> None:
    committed: list[tuple[int, str]] = []
    with _SegmentCommitter(lambda s: committed.append((s.id, threading.current_thread().name))) as committer:
        for i in range(50):
            committer.submit(_segment(i))
    assert [i for i, _ in committed] == list(range(50))
    assert {name for _, name in committed} == {"segment-committer"}


def test_the_first_failure_stops_later_commits_and_reaches_the_caller() -> None:
    committed: list[int] = []

    def commit(segment: Segment) -> None:
        if segment.id == 3:
            raise RuntimeError("dynamodb is down")
        committed.append(segment.id)

    with pytest.raises(RuntimeError, match="dynamodb is down"):
        with _SegmentCommitter(commit) as committer:
            for i in range(10):
                committer.submit(_segment(i))
    assert committed == [0, 1, 2]


def test_segments_decoded_before_a_decoding_error_are_still_committed() -> None:
    committed: list[int] = []
    with pytest.raises(ValueError, match="decoder crashed"):
        with _SegmentCommitter(lambda s: committed.append(s.id)) as committer:
            committer.submit(_segment(0))
            committer.submit(_segment(1))
            raise ValueError("decoder crashed")
    assert committed == [0, 1]
