"""moto is still wrong where grabadora/local/moto_patches.py patches it, and the patches work.

The "moto still …" tests run moto 5.2.5's own code, without the patch, and assert the wrong
behaviour the patch exists for. The day one fails, moto has fixed it: drop the patch it names
(and that test). Races are made deterministic by pausing one caller inside moto.
tests/integration/test_emulator_transactions.py and test_emulator_items.py show the patches
working over HTTP.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.core.common_models import BaseModel
from moto.core.model_instances import reset_model_data
from moto.dynamodb.exceptions import ConditionalCheckFailed, TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as moto_table
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.s3.models import FakeKey

from grabadora.local import moto_patches

moto_patches.apply()

WAIT = 5.0  # seconds a paused thread waits before the test gives up on it


def _backend() -> DynamoDBBackend:
    """A bare moto DynamoDB with one events-like table (PK job_id, SK seq)."""
    backend = DynamoDBBackend("us-east-1", "123456789012")
    backend.create_table(
        "events",
        schema=[{"AttributeName": "job_id", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
        attr=[{"AttributeName": "job_id", "AttributeType": "S"}, {"AttributeName": "seq", "AttributeType": "N"}],
        throughput=None, billing_mode="PAY_PER_REQUEST", indexes=None, global_indexes=None, streams=None,
        sse_specification=None, tags=None, deletion_protection_enabled=False, warm_throughput=None,
    )
    return backend


def _event(seq: int, text: str) -> dict[str, Any]:
    return {"job_id": {"S": "job"}, "seq": {"N": str(seq)}, "data": {"S": text}}


def _key(seq: int) -> dict[str, Any]:
    return {"job_id": {"S": "job"}, "seq": {"N": str(seq)}}


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


def test_moto_still_lets_two_conditional_puts_of_one_item_both_succeed(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto still …: drop `_one_dynamodb_request_at_a_time` when this fails (unless a read can
    still see a cancelled transaction, below)."""
    backend = _backend()
    paused, resume = threading.Event(), threading.Event()
    real = moto_table.get_filter_expression

    def condition_of(*args: Any) -> Any:
        # The first writer stops between reading the item and checking its condition.
        if not paused.is_set():
            paused.set()
            assert resume.wait(WAIT)
        return real(*args)

    monkeypatch.setattr(moto_table, "get_filter_expression", condition_of)
    condition = {"condition_expression": "attribute_not_exists(seq)"}
    writer_a, outcome_a = _in_thread(lambda: backend.put_item("events", _event(0, "a"), **condition))
    assert paused.wait(WAIT), "the first writer never reached moto's condition check; re-check the hook"
    writer_b, outcome_b = _in_thread(lambda: backend.put_item("events", _event(0, "b"), **condition))
    writer_b.join(WAIT)
    b_was_blocked = writer_b.is_alive()
    resume.set()
    writer_a.join(WAIT)
    writer_b.join(WAIT)

    assert not b_was_blocked, "moto now makes a second conditional put wait: drop the patch"
    assert all(isinstance(o, Item) for o in outcome_a + outcome_b), (outcome_a, outcome_b)
    assert backend.get_item("events", _key(0)).attrs["data"].value == "a"  # b's write was lost


def test_moto_still_shows_a_read_the_items_of_a_transaction_it_then_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto still …: drop `_one_dynamodb_request_at_a_time` when this fails (unless two
    conditional puts can still both succeed, above)."""
    backend = _backend()
    backend.put_item("events", _event(5, "taken"))
    written, resume = threading.Event(), threading.Event()
    own_put = DynamoDBBackend.put_item

    def put_then_pause(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = own_put(self, *args, **kwargs)
        written.set()
        assert resume.wait(WAIT)
        return item

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_then_pause)
    puts = [
        {"Put": {"TableName": "events", "Item": _event(seq, "new"), "ConditionExpression": "attribute_not_exists(seq)"}}
        for seq in (0, 5)
    ]
    transaction, outcome = _in_thread(lambda: backend.transact_write_items(puts))
    assert written.wait(WAIT)
    seen_meanwhile = backend.get_item("events", _key(0))
    resume.set()
    transaction.join(WAIT)

    assert isinstance(outcome[0], TransactionCanceledException)
    assert backend.get_item("events", _key(0)) is None  # cancelled as a whole...
    assert seen_meanwhile is not None, "moto no longer shows a transaction's items before it commits"


def test_conditional_puts_one_after_the_other_are_refused_by_moto() -> None:
    """The race above is the only way moto lets a second conditional put through."""
    backend = _backend()
    backend.put_item("events", _event(0, "a"), condition_expression="attribute_not_exists(seq)")
    with pytest.raises(ConditionalCheckFailed):
        backend.put_item("events", _event(0, "b"), condition_expression="attribute_not_exists(seq)")


@pytest.fixture
def motos_own_model_tracking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's own `BaseModel.__new__` for one test; what it tracked is forgotten afterwards."""
    motos_own = getattr(BaseModel.__new__, "__wrapped__", BaseModel.__new__)  # under the patch, or not
    monkeypatch.setattr(BaseModel, "__new__", staticmethod(motos_own))
    yield
    monkeypatch.undo()
    reset_model_data()


@pytest.mark.usefixtures("motos_own_model_tracking")
def test_moto_still_keeps_every_model_object_it_builds() -> None:
    """moto still …: drop `_untracked_models` when this fails."""
    item = Item(hash_key=DynamoType({"S": "u-1"}), range_key=None, attrs={"user_id": {"S": "u-1"}})
    key = FakeKey("audio/a.wav", b"\x00" * 1024, account_id="123456789012", region_name="us-east-1")
    refs = [weakref.ref(item), weakref.ref(key)]
    del item, key
    gc.collect()
    kept = [r() for r in refs]
    assert all(o is not None for o in kept), "moto no longer keeps dropped models alive: drop the patch"
    assert any(o is kept[0] for o in Item.instances_tracked)
    assert any(o is kept[1] for o in FakeKey.instances_tracked)


def test_moto_models_are_not_kept_once_dropped() -> None:
    item = Item(hash_key=DynamoType({"S": "u-1"}), range_key=None, attrs={"user_id": {"S": "u-1"}, "n": {"N": "1"}})
    key = FakeKey("audio/a.wav", b"\x00" * 1024, account_id="123456789012", region_name="us-east-1")
    assert not any(o is item for o in Item.instances_tracked)
    assert not any(o is key for o in FakeKey.instances_tracked)
    refs = [weakref.ref(item), weakref.ref(key)]
    del item, key
    gc.collect()
    assert [r() for r in refs] == [None, None]
    assert isinstance(Item(hash_key=DynamoType({"S": "x"}), range_key=None, attrs={}), Item)  # construction unchanged
