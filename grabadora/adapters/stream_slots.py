"""Open streams per user, counted across relay instances (each stream holds its own Lambda on AWS).

One item per user in the user-state table (`item` = `streams`): `leases`, stream id -> epoch
seconds at which that lease lapses, under a `version` so that concurrent opens serialise (a
conditional put; the loser reads again). A stream releases its lease when it ends; a relay that
died without releasing leaves a lease that lapses by itself (`stream_max_seconds` + slack), and
`ttl` lets DynamoDB drop the item once every lease has lapsed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from ulid import ULID

from grabadora import aws
from grabadora.adapters._errors import translate, translating
from grabadora.adapters.dynamo import deserialize
from grabadora.errors import Conflict, RateLimited
from grabadora.settings import RelaySettings

ITEM = "streams"
SLACK_SECONDS = 60
UNLIMITED_LEASE_SECONDS = 6 * 3600  # a stream without a maximum: a lease as long as a stream token


class StreamSlots:
    def __init__(self, settings: RelaySettings) -> None:
        self.cap = settings.streams_per_user
        self.table = settings.user_state_table
        self.lease_seconds = (settings.stream_max_seconds or UNLIMITED_LEASE_SECONDS) + SLACK_SECONDS
        self.retry_after = max(1, int(settings.stream_retry_ms / 1000) or 1)

    def acquire(self, user_id: str) -> str | None:
        """A lease id for a new stream of `user_id`; `RateLimited` when the user holds `cap` already."""
        if self.cap <= 0:
            return None
        lease = str(ULID())
        for _ in range(8):
            now = time.time()
            item = self._get(user_id)
            leases = {k: float(v) for k, v in item.get("leases", {}).items() if float(v) > now}
            if len(leases) >= self.cap:
                raise RateLimited(
                    f"too many open streams ({self.cap}); close one (another tab?) and try again",
                    retry_after=max(1, int(min(leases.values()) - now)) if leases else self.retry_after,
                    code="too_many_streams",
                )
            leases[lease] = now + self.lease_seconds
            try:
                self._put(user_id, leases, int(item.get("version", 0)), now)
                return lease
            except Conflict:
                continue  # another stream opened or closed meanwhile: read again
        raise RateLimited("too many streams opening at once; try again", retry_after=1, code="too_many_streams")

    def release(self, user_id: str, lease: str | None) -> None:
        if lease is None:
            return
        with contextlib.suppress(Exception), translating("release stream slot"):
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={"user_id": {"S": user_id}, "item": {"S": ITEM}},
                UpdateExpression="REMOVE leases.#l ADD version :one",
                ConditionExpression="attribute_exists(leases)",
                ExpressionAttributeNames={"#l": lease},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    @contextlib.contextmanager
    def held(self, user_id: str, lease: str | None) -> Iterator[None]:
        try:
            yield
        finally:
            self.release(user_id, lease)

    def open_count(self, user_id: str) -> int:
        now = time.time()
        return sum(1 for v in self._get(user_id).get("leases", {}).values() if float(v) > now)

    def _get(self, user_id: str) -> dict[str, Any]:
        with translating("read stream slots"):
            response = aws.client("dynamodb").get_item(
                TableName=self.table, Key={"user_id": {"S": user_id}, "item": {"S": ITEM}}, ConsistentRead=True
            )
        return deserialize(response["Item"]) if "Item" in response else {}

    def _put(self, user_id: str, leases: dict[str, float], version: int, now: float) -> None:
        ttl = int(max(leases.values(), default=now)) + SLACK_SECONDS
        try:
            aws.client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    "user_id": {"S": user_id},
                    "item": {"S": ITEM},
                    "leases": {"M": {k: {"N": repr(round(v, 3))} for k, v in leases.items()}},
                    "version": {"N": str(version + 1)},
                    "ttl": {"N": str(ttl)},
                },
                ConditionExpression="attribute_not_exists(version) OR version = :v",
                ExpressionAttributeValues={":v": {"N": str(version)}},
            )
        except (ClientError, BotoCoreError) as e:
            error = translate(e, "reserve a stream slot")
            raise error from e
