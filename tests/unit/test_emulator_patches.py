"""The emulator's speed patches (grabadora/local/moto_patches.py) change no answer.

DynamoDB items are written into responses as they are instead of by walking the output shape
(the walk was most of the emulator's cost per Query): compared byte for byte with moto's own
serializer on every AttributeValue type, nested, as GetItem, Query, UpdateItem and BatchGetItem
return them. SQS reads the clock from `time.time()`: the same instant as moto's datetime clock.
"""

from __future__ import annotations

import datetime
import json

import pytest
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.utilities import dynamo_to_dict

from grabadora.local import moto_patches

moto_patches.apply()


class _MotosOwn(JSONSerializer):
    """moto's serializer as shipped, without the patch."""

    _serialize = JSONSerializer._serialize.__wrapped__  # type: ignore[attr-defined]


ITEM = {
    "user_id": {"S": "u-1"},
    "transcript_id": {"S": "01JABC"},
    "title": {"S": "Canción de cuna: ñandú, pingüino 🎙"},
    "empty": {"S": ""},
    "duration": {"N": "70.25"},
    "count": {"N": "3"},
    "raw": {"B": b"\x00\xffbinary"},
    "tags": {"SS": ["b", "a"]},
    "scores": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"x", b"\x01\x02"]},
    "done": {"BOOL": False},
    "nothing": {"NULL": True},
    "segments": {
        "L": [
            {"M": {"start": {"N": "0.0"}, "text": {"S": "hola"}, "words": {"L": [{"S": "ho"}, {"S": "la"}]}}},
            {"M": {}},
            {"L": []},
        ]
    },
    "meta": {"M": {"nested": {"M": {"deep": {"BOOL": True}, "b": {"B": b"z"}}}}},
}


def _body(serializer_class: type[JSONSerializer], operation: str, result: dict) -> dict:
    operation_model = get_service_model("dynamodb").operation_model(operation)
    serializer = serializer_class(operation_model=operation_model, value_picker=XFormedAttributePicker())
    return json.loads(serializer.serialize(dynamo_to_dict(result))["body"])


@pytest.mark.parametrize(
    ("operation", "result"),
    [
        ("GetItem", {"Item": ITEM}),
        ("Query", {"Count": 2, "ScannedCount": 2, "Items": [ITEM, {"user_id": {"S": "u-2"}}], "LastEvaluatedKey": {"user_id": {"S": "u-2"}}}),
        ("UpdateItem", {"Attributes": ITEM}),
        ("BatchGetItem", {"Responses": {"transcripts": [ITEM]}, "UnprocessedKeys": {}}),
    ],
)
def test_the_fast_writer_matches_motos_serializer(operation: str, result: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = moto_patches._wire_attribute_value
    monkeypatch.setattr(moto_patches, "_wire_attribute_value", lambda value: calls.append(value) or real(value))
    fast = _body(JSONSerializer, operation, result)
    assert calls  # the fast path wrote the items
    assert fast == _body(_MotosOwn, operation, result)


def test_the_fast_writer_writes_binaries_base64_and_numbers_as_strings() -> None:
    item = _body(JSONSerializer, "GetItem", {"Item": ITEM})["Item"]
    assert item["raw"] == {"B": "AP9iaW5hcnk="}
    assert item["duration"] == {"N": "70.25"}
    assert item["segments"]["L"][0]["M"]["words"] == {"L": [{"S": "ho"}, {"S": "la"}]}


def test_a_value_it_does_not_recognise_goes_to_motos_serializer() -> None:
    with pytest.raises(moto_patches._NotWireForm):
        moto_patches._wire_attribute_value({"S": "a", "N": "1"})
    # A binary still base64 text (not moto's usual bytes) is not the fast path's to write...
    odd = {"Item": {"raw": {"B": "AP9i"}, "name": {"S": "x"}}}
    with pytest.raises(moto_patches._NotWireForm):
        moto_patches._wire_attribute_value(odd["Item"]["raw"])
    # ...and the response is still exactly what moto's own serializer writes for it.
    operation_model = get_service_model("dynamodb").operation_model("GetItem")
    bodies = [
        json.loads(cls(operation_model=operation_model, value_picker=XFormedAttributePicker()).serialize(odd)["body"])
        for cls in (JSONSerializer, _MotosOwn)
    ]
    assert bodies[0] == bodies[1] and bodies[0]["Item"]["name"] == {"S": "x"}


def test_the_sqs_clock_reads_the_same_time_as_motos() -> None:
    from moto.core import utils
    from moto.sqs import models

    assert abs(models.unix_time() - utils.unix_time()) < 0.05
    assert abs(models.unix_time_millis() - utils.unix_time_millis()) < 50
    moment = datetime.datetime(2026, 11, 29, 12, 0, 0)
    assert models.unix_time(moment) == utils.unix_time(moment) == 1795953600.0


def test_moto_models_are_not_kept_once_dropped() -> None:
    import gc
    import weakref

    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.s3.models import FakeKey

    item = Item(hash_key=DynamoType({"S": "u-1"}), range_key=None, attrs={"user_id": {"S": "u-1"}, "n": {"N": "1"}})
    key = FakeKey("audio/a.wav", b"\x00" * 1024, account_id="123456789012", region_name="us-east-1")
    assert item not in Item.instances_tracked and key not in FakeKey.instances_tracked
    refs = [weakref.ref(item), weakref.ref(key)]
    del item, key
    gc.collect()
    assert [r() for r in refs] == [None, None]
    assert isinstance(Item(hash_key=DynamoType({"S": "x"}), range_key=None, attrs={}), Item)  # construction unchanged
