"""Fixes to the emulator where moto 5.2.5 answers differently from AWS; never for its speed.

The emulator is for correctness, so moto is patched only where it is wrong, and each patch has
two kinds of test: one that the patch works, and one that runs moto without it and shows the
wrong behaviour is still there, named "moto still …: drop `<patch>` when this fails".

- `_one_dynamodb_request_at_a_time`: moto's server answers requests on many threads and its
  DynamoDB takes no lock. Two conditional writes of one item could both succeed (each checks the
  condition before the other writes), and a read could see a `TransactWriteItems` half done,
  or the items of one that is then cancelled (moto writes each item as it goes and restores a
  copy of the table on failure). DynamoDB applies each request atomically; one lock around each
  DynamoDB request gives the emulator the same. The event log's gap-free `seq` (conditional
  puts in one transaction) rests on both.
- `_untracked_models`: moto keeps every model object it ever builds (for its dashboard and
  `reset()`), so in a long-running server every projected item, SQS message copy and
  overwritten S3 object stays in memory and every full garbage collection walks them all.
"""

from __future__ import annotations

import functools
import threading
from typing import Any


def apply() -> None:
    """Install the patches once per process (idempotent)."""
    _one_dynamodb_request_at_a_time()
    _untracked_models()


def _one_dynamodb_request_at_a_time() -> None:
    """Each DynamoDB request reads and writes the emulator's tables alone, as it would on AWS.

    moto's `put_item`/`update_item` read the item, check the condition and write without a
    lock, so two racing conditional writes could both succeed (tests/reliability/test_races.py
    lost a correction between two PATCHes that each saw the same `version`). Its
    `transact_write_items` writes item by item and, when a condition fails, swaps in a copy of
    the table taken before: meanwhile another request thread could read the cancelled items,
    and an unlocked write made meanwhile would be undone with them. The lock covers the whole
    request, parsing to the serialized answer, so no request sees another one half done.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_grabadora_patched", False):
        return
    lock = threading.Lock()

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    call_action._grabadora_patched = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action


def _untracked_models() -> None:
    """moto's model objects live as long as something uses them, not as long as the process.

    moto 5.2.5's `BaseModel.__new__` appends every instance it creates to its class's
    `instances_tracked` list, for the server's `/moto-api/data.json` dashboard and for
    `reset()`; nothing removes them while the server runs. Every DynamoDB `Item` a Query
    projects, every SQS message copy a receive hands out and every S3 object ever written,
    deleted or overwritten stayed in memory, and each full garbage collection, which walks them
    all while holding the GIL, grew with them. Without the list, objects go when their last
    user drops them. Nothing Grabadora runs reads the dashboard; moto's S3 `reset()` still
    disposes of every stored object through its buckets, and a dropped object's spooled file
    closes when it is collected. moto's own `__new__` stays reachable as `__wrapped__`.
    """
    from moto.core.common_models import BaseModel

    if getattr(BaseModel.__new__, "_grabadora_patched", False):
        return
    original = BaseModel.__new__

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG001 - moto's signature
        return super(BaseModel, cls).__new__(cls)  # moto's, minus `cls.instances_tracked.append`

    __new__._grabadora_patched = True  # type: ignore[attr-defined]
    __new__.__wrapped__ = original  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign,assignment]
