"""Several segments' events in as few transactions as fit, each segment whole, seq gap-free."""

from __future__ import annotations

from types import SimpleNamespace

from gpu_container.job import EventLog
from grabadora.adapters.events_table import MAX_TRANSACTION_ITEMS
from grabadora.models import JobEvent, JobMessage, TranscribeOptions


class _Events:
    def __init__(self) -> None:
        self.transactions: list[tuple[list[JobEvent], list[int | None]]] = []

    def append(self, events: list[JobEvent], *, segment: int | None = None, segments: list[int | None] | None = None) -> None:
        self.transactions.append((events, segments if segments is not None else [segment] * len(events)))


def _log(next_seq: int = 0) -> tuple[EventLog, _Events]:
    events = _Events()
    job = JobMessage(job_id="j1", user_id="u1", audio_key="uploads/u1/a.wav", options=TranscribeOptions())
    return EventLog(SimpleNamespace(events=events, publisher=None), job, next_seq), events  # type: ignore[arg-type]


def _items(n: int) -> list[tuple[str, dict]]:
    return [("delta", {"text": f" w{i}", "t0": i, "t1": i + 0.5}) for i in range(n - 1)] + [("progress", {"progress": 0.5})]


def test_segments_that_fit_share_one_transaction_with_their_own_labels() -> None:
    log, events = _log(next_seq=7)
    log.commit_segments([(3, _items(12)), (4, _items(9)), (5, _items(20))])
    assert len(events.transactions) == 1
    committed, labels = events.transactions[0]
    assert [e.seq for e in committed] == list(range(7, 7 + 41))
    assert labels == [3] * 12 + [4] * 9 + [5] * 20
    assert log.next_seq == 48


def test_a_segment_that_would_overflow_the_transaction_starts_the_next_one() -> None:
    log, events = _log()
    log.commit_segments([(0, _items(60)), (1, _items(50)), (2, _items(30))])
    sizes = [len(t[0]) for t in events.transactions]
    assert sizes == [60, 80] and all(size <= MAX_TRANSACTION_ITEMS for size in sizes)
    assert [e.seq for t in events.transactions for e in t[0]] == list(range(140))
    # No segment is split across transactions
    assert set(events.transactions[0][1]) == {0} and set(events.transactions[1][1]) == {1, 2}
