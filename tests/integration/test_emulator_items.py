"""The emulator answers as before through its speed patches (grabadora/local/moto_patches.py).

boto3 over HTTP to the embedded moto server: GetItem, a projected Query and UpdateItem's
ALL_NEW return every AttributeValue type unchanged (grabadora/local/moto_patches.py writes them
without moto's generic serializer and projects each item once); SQS delays and visibility
timeouts still hold with its clock read from `time.time()`. What the emulator only answered with
(projected copies, overwritten objects) does not stay in its memory.
"""

from __future__ import annotations

import gc
import time
import uuid

from grabadora import aws
from grabadora.settings import get_settings


def _item(user: str) -> dict:
    return {
        "user_id": {"S": user},
        "transcript_id": {"S": uuid.uuid4().hex},
        "title": {"S": "Canción: ñandú 🎙"},
        "empty": {"S": ""},
        "duration": {"N": "70.25"},
        "raw": {"B": b"\x00\xffbinary"},
        "tags": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "blobs": {"BS": [b"x", b"\x01\x02"]},
        "done": {"BOOL": False},
        "nothing": {"NULL": True},
        "segments": {"L": [{"M": {"start": {"N": "0"}, "words": {"L": [{"S": "ho"}, {"S": "la"}]}}}, {"M": {}}, {"L": []}]},
    }


def _normal(item: dict) -> dict:
    """Sets come back in any order, as from DynamoDB."""
    return {k: ({t: sorted(v)} if t in ("SS", "NS", "BS") else {t: v}) for k, (t, v) in ((k, *v.items()) for k, v in item.items())}


def test_every_attribute_type_round_trips_through_get_query_and_update(aws_endpoint: str) -> None:
    table, db, user = get_settings().transcripts_table, aws.client("dynamodb"), f"u-{uuid.uuid4().hex}"
    item = _item(user)
    key = {"user_id": item["user_id"], "transcript_id": item["transcript_id"]}
    db.put_item(TableName=table, Item=item)

    assert _normal(db.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]) == _normal(item)

    page = db.query(
        TableName=table,
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": user}},
        ProjectionExpression="#t, #r, #s, #n",
        ExpressionAttributeNames={"#t": "title", "#r": "raw", "#s": "segments", "#n": "nothing"},
    )
    assert page["Items"] == [{k: item[k] for k in ("title", "raw", "segments", "nothing")}]

    updated = db.update_item(
        TableName=table, Key=key, UpdateExpression="SET done = :d", ExpressionAttributeValues={":d": {"BOOL": True}}, ReturnValues="ALL_NEW"
    )["Attributes"]
    assert _normal(updated) == _normal({**item, "done": {"BOOL": True}})


def test_queued_messages_keep_their_delay_and_visibility_timeout(aws_endpoint: str) -> None:
    # A queue of its own, so no worker or other test takes the messages.
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"clock-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None  # still delayed
    time.sleep(1.2)
    taken = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, VisibilityTimeout=1)["Messages"]
    assert [m["Body"] for m in taken] == ["later"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None  # in flight
    time.sleep(1.2)
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in again] == ["later"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"] == {
        "ApproximateNumberOfMessagesNotVisible": "1"
    }


def test_the_emulator_keeps_nothing_it_only_answered_with(aws_endpoint: str) -> None:
    """moto kept every model object it ever built (grabadora/local/moto_patches.py
    `_untracked_models`): each projected Query left copies of its items, each overwrite the old
    object, and every full garbage collection walked them all."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.s3.models import FakeKey

    def live(kind: type) -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is kind)

    settings, db, s3 = get_settings(), aws.client("dynamodb"), aws.client("s3")
    user = f"u-{uuid.uuid4().hex}"
    for _ in range(20):
        db.put_item(TableName=settings.transcripts_table, Item=_item(user))

    def listing() -> None:
        page = db.query(
            TableName=settings.transcripts_table,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user}},
            ProjectionExpression="transcript_id, title, #d",
            ExpressionAttributeNames={"#d": "duration"},
        )
        assert page["Count"] == 20

    listing()
    items_before = live(Item)
    for _ in range(25):
        listing()  # 500 projected copies
    assert live(Item) - items_before < 20

    key = f"audio/{user}/same.wav"
    s3.put_object(Bucket=settings.bucket, Key=key, Body=b"\x00" * 100_000)
    keys_before = live(FakeKey)
    for _ in range(10):
        s3.put_object(Bucket=settings.bucket, Key=key, Body=b"\x00" * 100_000)
    assert live(FakeKey) - keys_before <= 1
    s3.delete_object(Bucket=settings.bucket, Key=key)
