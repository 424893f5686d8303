"""Failed sign-in counters in the `user-state` table, shared by every API Lambda.

One item per throttled key (`user_id` = `login-throttle#email#<sha256>` or
`login-throttle#ip#<address>`, `item` = `failures`): `failures` counted since `since`, the
first failure of the current window. A window ends `window` seconds after its first failure;
the next failure after that starts a new one. `ttl` lets DynamoDB drop stale counters.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from botocore.exceptions import ClientError

from grabadora import aws
from grabadora.adapters._errors import translate, translating
from grabadora.adapters.dynamo import deserialize
from grabadora.errors import Conflict
from grabadora.settings import get_settings

_ITEM = "failures"


def email_key(email: str) -> str:
    # Hashed: the counter must not become a second copy of who tried to sign in as whom.
    return "login-throttle#email#" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def ip_key(address: str) -> str:
    return f"login-throttle#ip#{address}"


class LoginThrottle:
    def __init__(self, table_name: str | None = None) -> None:
        self._table = table_name or get_settings().user_state_table

    def retry_after(self, key: str, limit: int, window: int, now: float | None = None) -> int | None:
        """Seconds until `key` may try again, or None when it is under `limit` failures."""
        if limit <= 0:
            return None
        now = time.time() if now is None else now
        with translating("read sign-in attempts"):
            response = aws.client("dynamodb").get_item(
                TableName=self._table,
                Key={"user_id": {"S": key}, "item": {"S": _ITEM}},
                ConsistentRead=True,
            )
        item: dict[str, Any] = deserialize(response["Item"]) if "Item" in response else {}
        since, failures = float(item.get("since", 0)), int(item.get("failures", 0))
        ends = since + window
        if failures >= limit and ends > now:
            return int(ends - now) + 1
        return None

    def record_failure(self, key: str, window: int, now: float | None = None) -> None:
        """Count one failure in the current window, or start a new window with it."""
        now = time.time() if now is None else now
        ttl = int(now) + 2 * window
        client = aws.client("dynamodb")
        k = {"user_id": {"S": key}, "item": {"S": _ITEM}}
        with translating("record sign-in attempt"):
            try:
                client.update_item(
                    TableName=self._table,
                    Key=k,
                    UpdateExpression="ADD failures :one SET since = if_not_exists(since, :now), #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(since) OR since > :start",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":now": {"N": repr(now)},
                        ":start": {"N": repr(now - window)},
                        ":ttl": {"N": str(ttl)},
                    },
                )
                return
            except ClientError as e:
                if not isinstance(translate(e, ""), Conflict):
                    raise
            # The window expired: this failure opens a new one.
            client.put_item(
                TableName=self._table,
                Item={**k, "failures": {"N": "1"}, "since": {"N": repr(now)}, "ttl": {"N": str(ttl)}},
            )

    def clear(self, key: str) -> None:
        """Forget `key`'s failures (after a successful sign-in for that e-mail)."""
        with translating("clear sign-in attempts"):
            aws.client("dynamodb").delete_item(
                TableName=self._table, Key={"user_id": {"S": key}, "item": {"S": _ITEM}}
            )
