"""A fix to the emulator, not to Grabadora: transactions that cost what they cost on AWS.

moto 5.2.5's `transact_write_items` deep-copies every table a transaction touches, once per
item, so it can roll back. The worker commits each segment's words as one transaction into the
`events` table, which holds every job's events, so each commit got slower as the table grew
(seconds per job once a few jobs had run: the emulator, not the code under test, dominated the
pipeline's overhead).

For transactions made only of `Put` and `ConditionCheck` items (all the worker sends) this
checks every condition first and writes only when all hold, which is DynamoDB's all-or-nothing
semantics without a copy. Anything else goes to moto's own implementation.
"""

from __future__ import annotations

import functools
from typing import Any

_FAST_OPS = frozenset({"Put", "ConditionCheck"})
_CONDITION_FAILED = "The conditional request failed"


def apply() -> None:
    """Install the patch once per process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.transact_write_items, "_grabadora_patched", False):
        return
    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if (
            len(transact_items) > 100
            or any(len(item) != 1 for item in transact_items)
            or any(next(iter(item)) not in _FAST_OPS for item in transact_items)
        ):
            return original(self, transact_items)
        _check_then_put(self, [next(iter(item.items())) for item in transact_items])

    transact_write_items._grabadora_patched = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items


def _key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _check_then_put(backend: Any, ops: list[tuple[str, dict[str, Any]]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import MultipleTransactionsException, TransactionCanceledException

    # Phase 1: every condition against the current state; nothing is written yet.
    seen: set[tuple[str, str]] = set()
    reasons: list[tuple[str | None, str | None, Any]] = []
    for op_type, op in ops:
        key = _key(backend, op_type, op)
        marker = (op["TableName"], str(sorted(key.items())))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = backend.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        if condition is not None and not get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(current):
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            reasons.append(("ConditionalCheckFailed", _CONDITION_FAILED, old))
        else:
            reasons.append((None, None, None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)

    # Phase 2: write; if moto rejects an item (validation), undo the ones already written.
    written: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for op_type, op in ops:
            if op_type != "Put":
                continue
            key = _key(backend, op_type, op)
            previous = backend.get_item(op["TableName"], key)
            backend.put_item(op["TableName"], op["Item"])
            written.append((op["TableName"], key, previous))
    except Exception:
        for table_name, key, previous in reversed(written):
            if previous is None:
                backend.delete_item(table_name, key)
            else:
                backend.put_item(table_name, previous.to_json()["Attributes"])
        raise
