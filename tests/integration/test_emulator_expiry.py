"""The emulator's stand-in for DynamoDB's TTL: expired items go, others stay (moto keeps them all)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from grabadora import aws
from grabadora.local.expiry import expire_items, sweep_until
from grabadora.resources import build_resources
from grabadora.settings import get_settings

pytestmark = pytest.mark.integration


def _put_event(job_id: str, seq: int, ttl: object) -> None:
    item = {"job_id": {"S": job_id}, "seq": {"N": str(seq)}, "type": {"S": "delta"}, "events": {"S": "[]"}, "n": {"N": "0"}}
    if ttl is not None:
        item["ttl"] = ttl  # type: ignore[assignment]
    aws.client("dynamodb").put_item(TableName=get_settings().events_table, Item=item)


def _seqs(job_id: str) -> list[int]:
    items = aws.client("dynamodb").query(
        TableName=get_settings().events_table, KeyConditionExpression="job_id = :j",
        ExpressionAttributeValues={":j": {"S": job_id}}, ConsistentRead=True,
    )["Items"]
    return [int(i["seq"]["N"]) for i in items]


def test_items_past_their_ttl_are_deleted_and_the_rest_kept(aws_endpoint: str) -> None:
    job = f"ttl-{uuid.uuid4().hex[:8]}"
    now = time.time()
    _put_event(job, 0, {"N": str(int(now) - 60)})  # expired a minute ago
    _put_event(job, 1, {"N": str(int(now) + 3600)})  # expires in an hour
    _put_event(job, 2, None)  # no TTL: kept forever
    _put_event(job, 3, {"S": "yesterday"})  # not a number: DynamoDB ignores it too
    assert expire_items(build_resources(get_settings()), now) >= 1
    assert _seqs(job) == [1, 2, 3]
    # An hour and a minute later, the second one goes too
    expire_items(build_resources(get_settings()), now + 3660)
    assert _seqs(job) == [2, 3]


def test_the_dev_stacks_sweep_runs_at_once_and_stops_when_asked(aws_endpoint: str) -> None:
    job = f"ttl-{uuid.uuid4().hex[:8]}"
    _put_event(job, 0, {"N": str(int(time.time()) - 1)})
    stop = threading.Event()
    thread = threading.Thread(target=sweep_until, args=(stop, build_resources(get_settings()), 3600), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while _seqs(job) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _seqs(job) == []
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
