"""How a job's events are packed into items and items into transactions.

One item per segment (a new one only past MAX_PACK_BYTES), one transaction per segment at
least, seq gap-free; the worker's EventLog hands each commit to the table in one call."""

from __future__ import annotations

from types import SimpleNamespace

from gpu_container.job import EventLog
from grabadora.adapters.events_table import MAX_PACK_BYTES, MAX_TRANSACTION_ITEMS, packs, transactions
from grabadora.models import JobEvent, JobMessage, TranscribeOptions


def _events(n: int, first: int = 0, text: str = " palabra") -> list[JobEvent]:
    return [JobEvent(job_id="j1", seq=first + i, type="delta", data={"text": text, "t0": i, "t1": i + 0.5}) for i in range(n)]


def test_one_pack_per_segment_label_in_order() -> None:
    events = _events(30)
    labels: list[int | None] = [3] * 12 + [4] * 9 + [None] * 2 + [5] * 7
    cut = packs(events, labels)
    assert [(p.segment, len(p.events)) for p in cut] == [(3, 12), (4, 9), (None, 2), (5, 7)]
    assert [e.seq for p in cut for e in p.events] == list(range(30))


def test_a_pack_never_passes_its_byte_limit() -> None:
    word = " " + "x" * 500
    events = _events(100, text=word)  # ~53 KB of one segment
    cut = packs(events, [1] * 100)
    assert len(cut) > 1 and all(len(p.body.encode()) <= MAX_PACK_BYTES for p in cut)
    assert [e.seq for p in cut for e in p.events] == list(range(100))
    assert {p.segment for p in cut} == {1}


def test_transactions_keep_a_segment_whole_and_respect_the_item_limit() -> None:
    # 150 one-pack segments, then a segment cut into 3 packs.
    big = " " + "y" * 2000
    events = _events(150) + _events(20, first=150, text=big)
    labels: list[int | None] = list(range(150)) + [150] * 20
    cut = packs(events, labels)
    assert len(cut) == 153
    groups = transactions(cut)
    assert all(len(g) <= MAX_TRANSACTION_ITEMS for g in groups)
    assert [p for g in groups for p in g] == cut
    # the last segment's 3 packs did not fit after the first 100 + 50: they share the second transaction
    assert [len(g) for g in groups] == [100, 53]
    for label in range(151):
        assert len({i for i, g in enumerate(groups) for p in g if p.segment == label}) == 1


def test_a_segment_that_would_overflow_a_transaction_starts_the_next_one() -> None:
    events = _events(99) + _events(3, first=99, text=" " + "z" * 7000)
    labels: list[int | None] = list(range(99)) + [99] * 3
    groups = transactions(packs(events, labels))
    assert [len(g) for g in groups] == [99, 2]  # segment 99 is 2 packs: both in the second
    assert {p.segment for p in groups[1]} == {99}


class _Events:
    def __init__(self) -> None:
        self.calls: list[tuple[list[JobEvent], list[int | None]]] = []

    def append(self, events: list[JobEvent], *, segment: int | None = None, segments: list[int | None] | None = None) -> None:
        self.calls.append((events, segments if segments is not None else [segment] * len(events)))


def test_the_event_log_commits_segments_in_one_call_at_the_next_seqs() -> None:
    events = _Events()
    job = JobMessage(job_id="j1", user_id="u1", audio_key="uploads/u1/a.wav", options=TranscribeOptions())
    log = EventLog(SimpleNamespace(events=events, publisher=None, doorbell=None), job, 7)  # type: ignore[arg-type]
    items = [("delta", {"text": " w", "t0": 0, "t1": 1})] * 60 + [("progress", {"progress": 0.5})]
    log.commit_segments([(3, items), (4, items[:9]), (5, items)])
    assert len(events.calls) == 1
    committed, labels = events.calls[0]
    assert [e.seq for e in committed] == list(range(7, 7 + 61 + 9 + 61))
    assert labels == [3] * 61 + [4] * 9 + [5] * 61
    assert log.next_seq == 7 + 131
