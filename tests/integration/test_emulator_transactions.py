"""The emulator's TransactWriteItems has DynamoDB's semantics: the event log's gap-free `seq`.

moto's own TransactWriteItems, with each DynamoDB request served alone
(grabadora/local/moto_patches.py `_one_dynamodb_request_at_a_time`; without it, moto lets a
read see a transaction half done or cancelled, tests/unit/test_emulator_patches.py). These go
through boto3 over HTTP to the embedded moto server, like the worker's commits and the relay's
reads do; a request is paused inside moto to make a race happen every time.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as moto_table

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


def test_an_update_and_a_put_commit_together(events_table: str) -> None:
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


WAIT = 10.0  # seconds a paused request waits before the test gives up on it


def _in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `target` in a thread; the list gets what it returned or the exception it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(target())
        except Exception as e:  # noqa: BLE001 - the outcome is what the test looks at
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _code(outcome: Any) -> str:
    return outcome.response["Error"]["Code"] if isinstance(outcome, ClientError) else "ok"


def test_racing_transactions_for_the_same_seqs_let_exactly_one_through(events_table: str) -> None:
    # Given eight workers that each hold the same job and commit the same 30 seqs at once
    job = uuid.uuid4().hex
    dynamodb = aws.client("dynamodb")
    start = threading.Barrier(8)

    def commit(writer: int) -> None:
        start.wait(WAIT)
        dynamodb.transact_write_items(TransactItems=[_put(events_table, job, i, f"{writer}-{i}") for i in range(30)])

    racers = [_in_thread(lambda writer=writer: commit(writer)) for writer in range(8)]
    for thread, _ in racers:
        thread.join(WAIT * 3)
    codes = [_code(outcome[0]) for _, outcome in racers]
    # Then one commits, the others are cancelled whole, and the log is the winner's alone
    assert sorted(codes) == ["TransactionCanceledException"] * 7 + ["ok"], codes
    winner = codes.index("ok")
    assert _texts(events_table, job) == [f"{winner}-{i}" for i in range(30)]


def test_requests_wait_while_a_transaction_runs_and_never_see_it_cancelled(
    events_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a transaction of seq 0..2 that will be cancelled (seq 2 is taken), paused inside moto
    # right after it wrote seq 0
    job, other_job = uuid.uuid4().hex, uuid.uuid4().hex
    dynamodb = aws.client("dynamodb")
    dynamodb.put_item(TableName=events_table, Item=_put(events_table, job, 2, "taken")["Put"]["Item"])
    written, resume = threading.Event(), threading.Event()
    own_put = DynamoDBBackend.put_item

    def put_then_pause(self: Any, table_name: str, item: dict, *args: Any, **kwargs: Any) -> Any:
        stored = own_put(self, table_name, item, *args, **kwargs)
        if item["job_id"]["S"] == job and item["data"]["S"] == "cancelled":
            written.set()
            assert resume.wait(WAIT)
        return stored

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_then_pause)
    transaction, outcome = _in_thread(
        lambda: dynamodb.transact_write_items(TransactItems=[_put(events_table, job, i, "cancelled") for i in range(3)])
    )
    assert written.wait(WAIT)
    # When the relay reads the job and another worker writes another job's event meanwhile
    reader, read = _in_thread(lambda: _texts(events_table, job))
    writer, wrote = _in_thread(lambda: dynamodb.put_item(TableName=events_table, Item=_put(events_table, other_job, 0, "x")["Put"]["Item"]))
    reader.join(1.0)
    writer.join(0.1)
    waited = reader.is_alive() and writer.is_alive()
    resume.set()
    for thread in (transaction, reader, writer):
        thread.join(WAIT)
    # Then both waited for the transaction, which was cancelled as a whole: the read saw none of
    # it, and the write made meanwhile was not undone with it
    assert _code(outcome[0]) == "TransactionCanceledException"
    assert waited, f"requests ran during the transaction: read {read}, write {wrote}"
    assert read == [["taken"]]
    assert _texts(events_table, job) == ["taken"]
    assert _texts(events_table, other_job) == ["x"]


def test_a_second_conditional_write_waits_for_the_first_and_is_refused(
    events_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a conditional put of seq 0 paused inside moto after reading the item, before its
    # condition is checked (only that put names #first)
    job = uuid.uuid4().hex
    dynamodb = aws.client("dynamodb")
    paused, resume = threading.Event(), threading.Event()
    own_condition = moto_table.get_filter_expression

    def condition_of(expression: Any, names: Any = None, *args: Any) -> Any:
        if names and "#first" in names:
            paused.set()
            assert resume.wait(WAIT)
        return own_condition(expression, names, *args)

    monkeypatch.setattr(moto_table, "get_filter_expression", condition_of)
    first_put = _put(events_table, job, 0, "first", conditional=False)["Put"]
    first, first_outcome = _in_thread(
        lambda: dynamodb.put_item(
            **first_put,
            ConditionExpression="attribute_not_exists(seq) AND attribute_not_exists(#first)",
            ExpressionAttributeNames={"#first": "first"},
        )
    )
    assert paused.wait(WAIT), "the first put never reached moto's condition check"
    # When a second conditional put of the same seq is sent meanwhile
    second, second_outcome = _in_thread(lambda: dynamodb.put_item(**_put(events_table, job, 0, "second")["Put"]))
    second.join(1.0)
    waited = second.is_alive()
    resume.set()
    first.join(WAIT)
    second.join(WAIT)
    # Then it waited for the first and was refused: one write, as on DynamoDB
    assert waited, f"the second put did not wait: {second_outcome}"
    assert [_code(first_outcome[0]), _code(second_outcome[0])] == ["ok", "ConditionalCheckFailedException"]
    assert _texts(events_table, job) == ["first"]
