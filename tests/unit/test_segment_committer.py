"""The worker's background committer: in order, batched, stops at the first failure, never
loses a decoded segment."""

from __future__ import annotations

import threading

import pytest

from gpu_container.job import _SegmentCommitter
from grabadora.models import Segment


def _segment(i: int) -> Segment:
    return Segment(id=i, t0=float(i), t1=float(i + 1), text=f" s{i}", words=[])


def test_segments_are_committed_in_order_off_the_calling_thread() -> None:
    committed: list[tuple[int, str]] = []

    def commit(batch: list[Segment]) -> None:
        committed.extend((s.id, threading.current_thread().name) for s in batch)

    with _SegmentCommitter(commit) as committer:
        for i in range(50):
            committer.submit(_segment(i))
    assert [i for i, _ in committed] == list(range(50))
    assert {name for _, name in committed} == {"segment-committer"}


def test_segments_that_queue_up_during_a_commit_are_committed_together() -> None:
    batches: list[list[int]] = []
    first_commit_started, release = threading.Event(), threading.Event()

    def commit(batch: list[Segment]) -> None:
        batches.append([s.id for s in batch])
        first_commit_started.set()
        release.wait(5)

    with _SegmentCommitter(commit) as committer:
        committer.submit(_segment(0))
        assert first_commit_started.wait(5)
        # While segment 0 is being committed, a whole window's segments arrive
        for i in range(1, 6):
            committer.submit(_segment(i))
        release.set()
    assert batches == [[0], [1, 2, 3, 4, 5]]


def test_the_first_failure_stops_later_commits_and_reaches_the_caller() -> None:
    committed: list[int] = []

    def commit(batch: list[Segment]) -> None:
        if any(s.id == 3 for s in batch):
            raise RuntimeError("dynamodb is down")
        committed.extend(s.id for s in batch)

    with pytest.raises(RuntimeError, match="dynamodb is down"):
        with _SegmentCommitter(commit) as committer:
            for i in range(10):
                committer.submit(_segment(i))
    # Whatever was committed is a prefix that stops before the failed segment
    assert committed == list(range(len(committed))) and len(committed) <= 3


def test_segments_decoded_before_a_decoding_error_are_still_committed() -> None:
    committed: list[int] = []
    with pytest.raises(ValueError, match="decoder crashed"):
        with _SegmentCommitter(lambda batch: committed.extend(s.id for s in batch)) as committer:
            committer.submit(_segment(0))
            committer.submit(_segment(1))
            raise ValueError("decoder crashed")
    assert committed == [0, 1]
