"""The packed event log on the emulator's DynamoDB: one item per segment, every seq still its
own event, resumable from any position, and still one writer per seq."""

from __future__ import annotations

import json
import uuid

import pytest

from grabadora import aws
from grabadora.adapters.events_table import EventsTable
from grabadora.errors import Conflict
from grabadora.models import JobEvent
from grabadora.settings import get_settings

pytestmark = pytest.mark.integration


def _segment(job_id: str, first: int, words: int) -> list[JobEvent]:
    events = [
        JobEvent(job_id=job_id, seq=first + i, type="delta", data={"text": f" w{first + i}", "t0": i, "t1": i + 0.4})
        for i in range(words)
    ]
    return events + [JobEvent(job_id=job_id, seq=first + words, type="progress", data={"progress": 0.5})]


def _stored_items(job_id: str) -> list[dict]:
    response = aws.client("dynamodb").query(
        TableName=get_settings().events_table,
        KeyConditionExpression="job_id = :j",
        ExpressionAttributeValues={":j": {"S": job_id}},
        ConsistentRead=True,
    )
    return response["Items"]


@pytest.fixture
def job_log(aws_endpoint: str) -> tuple[str, list[JobEvent]]:
    job_id = f"pack-{uuid.uuid4().hex[:8]}"
    table = EventsTable()
    log: list[JobEvent] = []
    for segment, words in enumerate([12, 30, 7]):
        batch = _segment(job_id, len(log), words)
        table.append(batch, segment=segment)
        log += batch
    end = JobEvent(job_id=job_id, seq=len(log), type="completed", data={"job_id": job_id})
    table.append([end])
    return job_id, log + [end]


def test_a_segment_is_one_item_and_the_log_reads_back_whole(job_log) -> None:
    job_id, log = job_log
    assert len(_stored_items(job_id)) == 4  # three segments and the end, for 53 events
    assert EventsTable().read(job_id) == log


def test_a_stream_resumes_after_any_event_even_inside_a_pack(job_log) -> None:
    job_id, log = job_log
    for position in range(-1, len(log)):
        # a fresh reader knows nothing of where packs end, as a relay serving a reconnect
        assert EventsTable().read(job_id, position) == log[position + 1 :], position


def test_reading_on_in_small_batches_never_skips_or_repeats(job_log) -> None:
    job_id, log = job_log
    table, got, after = EventsTable(), [], 5  # starts inside the first pack
    while batch := table.read(job_id, after, limit=1):
        got += batch
        after = batch[-1].seq
    assert got == log[6:]


def test_tail_and_last_come_from_the_newest_items(job_log) -> None:
    job_id, log = job_log
    tail = EventsTable().tail(job_id)
    assert (tail.next_seq, tail.last_segment, tail.terminal) == (len(log), 2, "completed")
    assert EventsTable().last(job_id) == log[-1]
    fresh = f"pack-{uuid.uuid4().hex[:8]}"
    assert EventsTable().tail(fresh).next_seq == 0 and EventsTable().last(fresh) is None


def test_a_second_writer_at_the_same_seq_is_refused_whatever_its_packs(aws_endpoint: str) -> None:
    job_id = f"pack-{uuid.uuid4().hex[:8]}"
    first, second = EventsTable(), EventsTable()
    first.append(_segment(job_id, 0, 20), segment=0)
    before = _stored_items(job_id)
    # Another worker that read the same tail commits a different segmentation from seq 0
    with pytest.raises(Conflict):
        second.append(_segment(job_id, 0, 4) + _segment(job_id, 5, 9), segments=[0] * 5 + [1] * 10)
    assert _stored_items(job_id) == before
    assert [e.seq for e in second.read(job_id)] == list(range(21))


def test_items_stored_one_event_each_still_read(aws_endpoint: str) -> None:
    """Logs written before packing (one item per event, `type` + `data`) keep streaming."""
    job_id = f"pack-{uuid.uuid4().hex[:8]}"
    for seq in range(3):
        aws.client("dynamodb").put_item(
            TableName=get_settings().events_table,
            Item={"job_id": {"S": job_id}, "seq": {"N": str(seq)}, "type": {"S": "delta"}, "seg": {"N": "0"},
                  "data": {"S": json.dumps({"text": f" old{seq}", "t0": seq, "t1": seq + 1})}},
        )
    table = EventsTable()
    assert table.tail(job_id).next_seq == 3
    table.append(_segment(job_id, 3, 2), segment=1)
    assert [e.data.get("text") for e in table.read(job_id, 1)] == [" old2", " w3", " w4", None]
    assert table.tail(job_id).last_segment == 1


def test_deleting_a_log_removes_every_item(job_log) -> None:
    job_id, _ = job_log
    EventsTable().delete_job(job_id)
    assert _stored_items(job_id) == [] and EventsTable().read(job_id) == []
