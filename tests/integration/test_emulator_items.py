"""The emulator lets go of what it only answered with (grabadora/local/moto_patches.py
`_untracked_models`), and moto's server, left alone, still would not.

boto3 over HTTP to the embedded moto server, as the stack uses it: a listing's projected Query
builds a copy of every item it returns, and an overwritten S3 object is replaced by a new one.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator

import pytest
from moto.core.common_models import BaseModel
from moto.core.model_instances import reset_model_data
from moto.dynamodb.models.dynamo_type import Item
from moto.s3.models import FakeKey

from grabadora import aws
from grabadora.settings import get_settings

LISTINGS, ITEMS = 25, 20  # 500 projected copies


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


@pytest.fixture
def listing(aws_endpoint: str) -> Callable[[], None]:
    """A user with 20 transcripts, and `GET /transcripts`' projected Query of them."""
    table, db, user = get_settings().transcripts_table, aws.client("dynamodb"), f"u-{uuid.uuid4().hex}"
    for _ in range(ITEMS):
        db.put_item(
            TableName=table,
            Item={"user_id": {"S": user}, "transcript_id": {"S": uuid.uuid4().hex}, "title": {"S": "ñandú"}, "duration": {"N": "70.25"}},
        )

    def query() -> None:
        page = db.query(
            TableName=table,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user}},
            ProjectionExpression="transcript_id, title, #d",
            ExpressionAttributeNames={"#d": "duration"},
        )
        assert page["Count"] == ITEMS

    return query


@pytest.fixture
def motos_own_model_tracking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server builds models with moto's own `BaseModel.__new__`; afterwards moto forgets them."""
    motos_own = getattr(BaseModel.__new__, "__wrapped__", BaseModel.__new__)  # under the patch, or not
    monkeypatch.setattr(BaseModel, "__new__", staticmethod(motos_own))
    yield
    monkeypatch.undo()
    reset_model_data()


@pytest.mark.usefixtures("motos_own_model_tracking")
def test_moto_still_keeps_every_item_a_query_answered_with(listing: Callable[[], None]) -> None:
    """moto still …: drop `_untracked_models` when this fails."""
    listing()
    tracked, live = len(Item.instances_tracked), _live(Item)
    for _ in range(LISTINGS):
        listing()
    assert len(Item.instances_tracked) - tracked >= LISTINGS * ITEMS
    assert _live(Item) - live >= LISTINGS * ITEMS, "moto's server no longer keeps answered items: drop the patch"


def test_the_emulator_keeps_nothing_it_only_answered_with(listing: Callable[[], None]) -> None:
    listing()
    items_before = _live(Item)
    for _ in range(LISTINGS):
        listing()
    assert _live(Item) - items_before < ITEMS

    settings, s3 = get_settings(), aws.client("s3")
    key = f"audio/{uuid.uuid4().hex}/same.wav"
    s3.put_object(Bucket=settings.bucket, Key=key, Body=b"\x00" * 100_000)
    keys_before = _live(FakeKey)
    for _ in range(10):
        s3.put_object(Bucket=settings.bucket, Key=key, Body=b"\x00" * 100_000)
    assert _live(FakeKey) - keys_before <= 1
    s3.delete_object(Bucket=settings.bucket, Key=key)
