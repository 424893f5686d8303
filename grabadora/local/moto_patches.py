"""Fixes to the emulator, not to Grabadora: moto answering at the cost AWS would.

Each patch keeps moto's answers and fixes a cost that grew with the data or dominated a
benchmark (found with py-spy; docs/BENCHMARKS.md has the side-by-side figures):

- `transact_write_items` deep-copied every table a transaction touches, once per item, so it
  could roll back. The worker commits each segment's words as one transaction into the `events`
  table, which holds every job's events, so each commit got slower as the table grew. For
  transactions made only of `Put` and `ConditionCheck` items (all the worker sends) this checks
  every condition first and writes only when all hold, which is DynamoDB's all-or-nothing
  semantics without a copy; anything else goes to moto's own implementation. Conditional writes
  are also made atomic under one lock (`_serialize_writes`).
- a base-table Query reads its own partition, not the whole table (`_query_one_partition`);
- the service behind a host is looked up once (`_cache_backend_lookup`);
- projections convert each item once, not once per attribute (`_project_once`);
- DynamoDB items are written into responses as they are, not by walking the output shape
  (`_attribute_values_as_is`);
- SQS reads the clock with `time.time()` (`_sqs_clock_from_time`);
- moto's models are not kept alive after use (`_untracked_models`): moto keeps every model
  object it ever builds, which leaked memory and stretched every full garbage collection.
"""

from __future__ import annotations

import base64
import functools
import threading
from typing import Any

_FAST_OPS = frozenset({"Put", "ConditionCheck"})
_CONDITION_FAILED = "The conditional request failed"


def apply() -> None:
    """Install the patches once per process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    _cache_backend_lookup()
    _query_one_partition()
    _project_once()
    _attribute_values_as_is()
    _sqs_clock_from_time()
    _untracked_models()
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
    _serialize_writes(DynamoDBBackend)


def _serialize_writes(backend_class: Any) -> None:
    """Make moto's conditional writes atomic, as DynamoDB's are.

    moto's server handles requests on many threads, and its `update_item` / `put_item` read the
    item, check the condition and write without a lock, so two racing conditional writes could
    both succeed (found by tests/reliability/test_races.py: a correction lost between two
    PATCHes that each saw the same `version`). One lock around every DynamoDB write restores
    DynamoDB's per-item atomicity; reads stay concurrent.
    """
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(backend_class, name)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        setattr(backend_class, name, locked)


def _cache_backend_lookup() -> None:
    """Remember which backend serves a host instead of working it out on every request.

    moto's server resolves each request's service with `get_backend_for_host`, which lists
    moto's package directory (`os.listdir` + an `isdir` per entry) and then tries every backend's
    URL pattern, all under one lock that every request thread takes. Under load that was the
    emulator's largest single cost (18 % of the dev stack's CPU samples while `GET /transcripts`
    ran at 32 concurrent clients, benchmarks/api_load.py --py-spy). The answer for a host never
    changes, so it is cached; a host with no backend is not.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    if getattr(original, "_grabadora_patched", False):
        return
    cache: dict[str, Any] = {}

    @functools.wraps(original)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host is None:
            return None
        backend = cache.get(host)
        if backend is None:
            backend = original(self, host)
            if backend is not None:
                cache[host] = backend
        return backend

    get_backend_for_host._grabadora_patched = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


_partition = threading.local()


def _query_one_partition() -> None:
    """A base-table Query reads its own partition, not every item of the table.

    moto 5.2.5's `Table.query` (no index) builds its candidates from `all_items()`, which
    collects and sorts every item of the table, then keeps the partition asked for: each Query
    costs O(n log n) in the table's size. The relay polls `events` (every job's events) ten
    times a second per stream, so each poll got slower as jobs accumulated. While a base-table
    Query runs, `all_items` yields only that partition (sorted, as before); everything else
    (indexes, scans) is untouched.
    """
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_grabadora_patched", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    @functools.wraps(original_all_items)
    def all_items(self: Any) -> list[Any]:
        if getattr(_partition, "table", None) is not self:
            return original_all_items(self)
        part = self.items.get(_partition.hash_key)
        if part is None:
            return []
        if self.range_key_attr:
            return sorted(part.values(), key=lambda x: x.range_key)
        return [part]

    @functools.wraps(original_query)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if hash_key is None or kwargs.get("index_name") or (len(args) >= 7 and args[6]):
            return original_query(self, hash_key, *args, **kwargs)
        _partition.table, _partition.hash_key = self, hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _partition.table = _partition.hash_key = None

    query._grabadora_patched = True  # type: ignore[attr-defined]
    Table.query = query
    Table.all_items = all_items


def _project_once() -> None:
    """A projected item converts the stored item once, not once per projected attribute.

    moto 5.2.5's `Item.project` turns the whole item into plain Python (`to_regular_json`, a
    deep copy and a boto3 deserialisation of every attribute) for each path of the
    ProjectionExpression. `GET /transcripts` projects 13 attributes of 20 items, so every
    listing made 260 such conversions: 27 % of the stack's GIL samples at 32 concurrent clients
    (`benchmarks/api_load.py --py-spy`). The conversion is now made once per item; the paths are
    looked up and merged exactly as before.
    """
    from moto.dynamodb.models import dynamo_type

    original = dynamo_type.Item.project
    if getattr(original, "_grabadora_patched", False):
        return

    @functools.wraps(original)
    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        regular = self.to_regular_json()
        result: dict[str, Any] = {}
        for expr in projection_expressions:
            dynamo_type.merge_dicts(result, dynamo_type.find_nested_key(expr, regular))
        return dynamo_type.Item(
            hash_key=self.hash_key, range_key=self.range_key, attrs=dynamo_type.serializer.serialize(result)["M"]
        )

    project._grabadora_patched = True  # type: ignore[attr-defined]
    dynamo_type.Item.project = project


class _NotWireForm(Exception):
    """A value the fast path does not recognise; moto's own serializer handles it."""


def _wire_attribute_value(value: Any) -> dict[str, Any]:
    """A DynamoDB AttributeValue as it goes on the wire, from moto's `{type: value}` form."""
    if not isinstance(value, dict) or len(value) != 1:
        raise _NotWireForm
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return {kind: str(inner)}
    if kind == "M":
        return {"M": {str(k): _wire_attribute_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_wire_attribute_value(v) for v in inner]}
    if kind in ("SS", "NS"):
        return {kind: [str(v) for v in inner]}
    if kind in ("BOOL", "NULL") and isinstance(inner, bool):
        return {kind: inner}
    if kind == "B" and isinstance(inner, bytes):
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS" and all(isinstance(v, bytes) for v in inner):
        return {"BS": [base64.b64encode(v).decode() for v in inner]}
    raise _NotWireForm


def _attribute_values_as_is() -> None:
    """DynamoDB items go into a response as they are, not through moto's generic serializer.

    moto 5.2.5 writes every response by walking the operation's output shape; each
    AttributeValue is a structure of ten members, and for each member it tries a list of key
    aliases (`AttributePicker.get_possible_keys`), recursively for maps and lists. For
    `GET /transcripts` (a Query of 20 items) that walk was 43 % of the stack's GIL samples at 32
    concurrent clients, and it is paid by every GetItem, UpdateItem and relay poll too. moto
    already holds items in DynamoDB's own `{type: value}` form, so an AttributeValue is written
    as is (numbers and strings as strings, binaries base64-encoded, as the serializer does);
    anything unexpected goes through moto's serializer unchanged.
    """
    from moto.core.serialize import JSONSerializer

    original = JSONSerializer._serialize
    if getattr(original, "_grabadora_patched", False):
        return

    @functools.wraps(original)
    def _serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and self.service_model.service_name == "dynamodb":
            try:
                serialized[self.get_serialized_name(shape, key)] = _wire_attribute_value(value)
                return
            except _NotWireForm:
                pass
        original(self, serialized, value, shape, key)

    _serialize._grabadora_patched = True  # type: ignore[attr-defined]
    JSONSerializer._serialize = _serialize


def _sqs_clock_from_time() -> None:
    """moto's SQS reads the clock with `time.time()`, not by building two datetimes.

    moto 5.2.5's SQS asks `unix_time()` (a naive `utcnow()` minus a naive epoch) whether each
    message is visible or delayed, and `SendMessage` computes the queue's attributes, which walks
    every message three times. With jobs queued behind a busy worker the clock was 26 % of the
    stack's GIL samples during `POST /transcribe` at 32 concurrent clients
    (`benchmarks/api_load.py --py-spy`, up to ~300 messages queued). The current time is the same
    number from `time.time()`, at a fraction of the cost; calls with a datetime are unchanged.
    """
    import time

    from moto.sqs import models

    if getattr(models.unix_time, "_grabadora_patched", False):
        return
    original_seconds, original_millis = models.unix_time, models.unix_time_millis

    @functools.wraps(original_seconds)
    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else original_seconds(dt)

    @functools.wraps(original_millis)
    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else original_millis(dt)

    unix_time._grabadora_patched = True  # type: ignore[attr-defined]
    models.unix_time, models.unix_time_millis = unix_time, unix_time_millis


def _untracked_models() -> None:
    """moto's model objects live as long as something uses them, not as long as the process.

    moto 5.2.5's `BaseModel.__new__` appends every instance it creates to its class's
    `instances_tracked` list, for the server's `/moto-api/data.json` dashboard and for
    `reset()`; nothing removes them while the server runs. Every DynamoDB `Item` a Query
    projects (20 per `GET /transcripts`, each with its attributes), every SQS message copy a
    receive hands out and every S3 object ever written, deleted or overwritten stayed in memory.
    In a `grabadora dev --no-worker` serving a minute of listings the tracked objects went from
    ~290,000 to ~660,000, and each full garbage collection, which walks them all while holding
    the GIL, grew from 20 to 275 ms: the stack's p99 at one client was ~155 ms against a p50
    of ~24 ms (benchmarks/api_wrk.sh). Without the list, objects go when their last user drops
    them. Nothing Grabadora runs reads the dashboard; moto's S3 `reset()` still disposes of every
    stored object through its buckets, and a dropped object's spooled file closes when it is
    collected.
    """
    from moto.core.common_models import BaseModel

    if getattr(BaseModel.__new__, "_grabadora_patched", False):
        return

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG001 - moto's signature
        return super(BaseModel, cls).__new__(cls)  # moto's, minus `cls.instances_tracked.append`

    __new__._grabadora_patched = True  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign,assignment]


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
