"""The emulator's TransactWriteItems keeps DynamoDB's semantics after the copy-free patch.

These go through boto3 over HTTP to the embedded moto server, like the worker's commits do.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from grabadora import aws
from grabadora.settings import get_settings


def _put(table: str, job: str, seq: int, text: str, conditional: bool = True) -> dict:
    put: dict = {
        "TableName": table,
        "Item": {"job_id": {"S": job}, "seq": {"N": str(seq)}, "type": {"S": "delta"}, "data": {"S": text}},
    }
    if conditional:
        put["ConditionExpression"] = "attribute_not_exists(seq)"
    return {"Put": put}


def _texts(table: str, job: str) -> list[str]:
    items = aws.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="job_id = :j",
        ExpressionAttributeValues={":j": {"S": job}},
        ConsistentRead=True,
    )["Items"]
    return [item["data"]["S"] for item in items]


@pytest.fixture
def events_table(aws_endpoint: str) -> str:
    return get_settings().events_table


def test_a_transaction_whose_conditions_hold_writes_every_item(events_table: str) -> None:
    job = uuid.uuid4().hex
    aws.client("dynamodb").transact_write_items(TransactItems=[_put(events_table, job, i, f"w{i}") for i in range(30)])
    assert _texts(events_table, job) == [f"w{i}" for i in range(30)]


def test_one_failed_condition_cancels_the_whole_transaction_and_names_the_item(events_table: str) -> None:
    # Given seq 2 already taken
    job = uuid.uuid4().hex
    dynamodb = aws.client("dynamodb")
    dynamodb.transact_write_items(TransactItems=[_put(events_table, job, 2, "first")])
    # When a transaction for seq 0..4 is sent
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[_put(events_table, job, i, f"w{i}") for i in range(5)])
    # Then it is cancelled, the reason points at the third item, and nothing else was written
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    codes = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert codes == ["None", "None", "ConditionalCheckFailed", "None", "None"]
    assert _texts(events_table, job) == ["first"]


def test_the_same_key_twice_in_one_transaction_is_rejected(events_table: str) -> None:
    job = uuid.uuid4().hex
    with pytest.raises(ClientError) as caught:
        aws.client("dynamodb").transact_write_items(
            TransactItems=[_put(events_table, job, 0, "a"), _put(events_table, job, 0, "b")]
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert _texts(events_table, job) == []


def test_a_condition_check_guards_puts_on_another_item(events_table: str) -> None:
    # Given a job whose seq 0 does not exist
    job = uuid.uuid4().hex
    check = {
        "ConditionCheck": {
            "TableName": events_table,
            "Key": {"job_id": {"S": job}, "seq": {"N": "0"}},
            "ConditionExpression": "attribute_exists(seq)",
        }
    }
    # When a put is made conditional on it / Then the put does not happen
    with pytest.raises(ClientError):
        aws.client("dynamodb").transact_write_items(TransactItems=[check, _put(events_table, job, 1, "x")])
    assert _texts(events_table, job) == []


def test_updates_still_go_through_motos_own_transactions(events_table: str) -> None:
    job = uuid.uuid4().hex
    dynamodb = aws.client("dynamodb")
    dynamodb.transact_write_items(TransactItems=[_put(events_table, job, 0, "old")])
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": events_table,
                    "Key": {"job_id": {"S": job}, "seq": {"N": "0"}},
                    "UpdateExpression": "SET #d = :new",
                    "ExpressionAttributeNames": {"#d": "data"},
                    "ExpressionAttributeValues": {":new": {"S": "new"}},
                }
            },
            _put(events_table, job, 1, "next"),
        ]
    )
    assert _texts(events_table, job) == ["new", "next"]
