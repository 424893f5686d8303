"""DynamoDB's Time to Live for the emulator: items past their TTL attribute are deleted.

DynamoDB deletes expired items by itself (within a few days of expiry); moto keeps them forever.
On a self-hosted machine that runs for months, the events table would then keep every word of
every job ever transcribed (the events' TTL is 30 days), in memory and in every snapshot, and
moto's transactions get slower as a table grows. The dev stack calls `expire_items` at start and
then every `SWEEP_EVERY_SECONDS`, for every table whose spec in grabadora/resources.py names a
TTL attribute, exactly those tables that CDK gives a TTL on AWS.
"""

from __future__ import annotations

import logging
import threading
import time

from grabadora import aws
from grabadora.resources import Resources, TableSpec

logger = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 600


def expire_items(resources: Resources, now: float | None = None) -> int:
    """Delete every item whose TTL attribute is a time before `now`; how many were deleted."""
    cutoff = int(time.time() if now is None else now)
    deleted = 0
    for spec in resources.tables:
        if spec.ttl_attribute:
            deleted += _expire_table(spec, cutoff)
    return deleted


def _expire_table(spec: TableSpec, cutoff: int) -> int:
    dynamodb = aws.client("dynamodb")
    keys = [spec.partition_key.name] + ([spec.sort_key.name] if spec.sort_key else [])
    names = {f"#k{i}": name for i, name in enumerate(keys)} | {"#ttl": spec.ttl_attribute}
    scan = {
        "TableName": spec.name,
        # As DynamoDB: only a number (epoch seconds) in the past expires an item.
        "FilterExpression": "attribute_type(#ttl, :number) AND #ttl < :now",
        "ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(keys))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {":now": {"N": str(cutoff)}, ":number": {"S": "N"}},
    }
    deleted = 0
    while True:
        page = dynamodb.scan(**scan)
        expired = page.get("Items", [])
        for start in range(0, len(expired), 25):
            requests = [{"DeleteRequest": {"Key": key}} for key in expired[start : start + 25]]
            pending = {spec.name: requests}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        deleted += len(expired)
        if "LastEvaluatedKey" not in page:
            return deleted
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def sweep_until(stop: threading.Event, resources: Resources, every: float = SWEEP_EVERY_SECONDS) -> None:
    """`expire_items` now and then every `every` seconds until `stop` is set (a dev-stack thread)."""
    while True:
        try:
            deleted = expire_items(resources)
            if deleted:
                logger.info("expired %d items past their TTL", deleted)
        except Exception:  # noqa: BLE001 - the next sweep tries again; nothing depends on this one
            logger.warning("the TTL sweep failed; the next one retries", exc_info=True)
        if stop.wait(every):
            return
