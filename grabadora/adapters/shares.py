"""Share links, kept in the `user-state` table (no table of their own).

Two items per link, both written and deleted by the API only:

- the **lookup** item, found from the link's token alone: `user_id` = `share#<sha256 of the
  token>`, `item` = `share`, with `owner`, `transcript_id`, `share_id`, `expires_at` (ISO) and
  `expires` (epoch seconds), and `ttl` so DynamoDB drops it some time after it expired. The
  token itself is never stored. (The same synthetic-partition pattern as the sign-in throttle's
  counters: one GetItem, no scan, no index.)
- the **owner's** item, in the owner's own partition: `item` =
  `share#<transcript_id>#<share_id>`, with `token_sha256`, `created_at`, `expires_at`, `expires`
  and the same `ttl`: what lists a transcript's links, revokes one, and goes with the account.
"""

from __future__ import annotations

import hashlib
from typing import Any

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.adapters.dynamo import deserialize, serialize
from grabadora.settings import get_settings

LOOKUP_ITEM = "share"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def lookup_key(digest: str) -> str:
    return f"share#{digest}"


def owner_item(transcript_id: str, share_id: str) -> str:
    return f"share#{transcript_id}#{share_id}"


class SharesTable:
    def __init__(self, table_name: str | None = None) -> None:
        self._table = table_name or get_settings().user_state_table

    def put(self, owner: str, transcript_id: str, share_id: str, digest: str, record: dict[str, Any]) -> None:
        """Store a new link: the owner's item first, so a link that can be opened is always listed
        (and so revocable) by its owner."""
        client = aws.client("dynamodb")
        with translating("store share link"):
            client.put_item(
                TableName=self._table,
                Item=serialize({
                    "user_id": owner, "item": owner_item(transcript_id, share_id), "token_sha256": digest, **record,
                }),
            )
            client.put_item(
                TableName=self._table,
                Item=serialize({
                    "user_id": lookup_key(digest), "item": LOOKUP_ITEM, "owner": owner,
                    "transcript_id": transcript_id, "share_id": share_id, **record,
                }),
                ConditionExpression="attribute_not_exists(#i)",
                ExpressionAttributeNames={"#i": "item"},
            )

    def find(self, digest: str) -> dict[str, Any] | None:
        """The lookup item of a token's digest, or None."""
        with translating("read share link"):
            response = aws.client("dynamodb").get_item(
                TableName=self._table,
                Key={"user_id": {"S": lookup_key(digest)}, "item": {"S": LOOKUP_ITEM}},
                ConsistentRead=True,
            )
        return deserialize(response["Item"]) if "Item" in response else None

    def get(self, owner: str, transcript_id: str, share_id: str) -> dict[str, Any] | None:
        """The owner's item of one link, or None."""
        with translating("read share link"):
            response = aws.client("dynamodb").get_item(
                TableName=self._table,
                Key={"user_id": {"S": owner}, "item": {"S": owner_item(transcript_id, share_id)}},
                ConsistentRead=True,
            )
        return deserialize(response["Item"]) if "Item" in response else None

    def list(self, owner: str, transcript_id: str) -> list[dict[str, Any]]:
        """The owner's items of a transcript's links, oldest first (share ids are ULIDs)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "user_id = :u AND begins_with(#i, :p)",
            "ExpressionAttributeNames": {"#i": "item"},
            "ExpressionAttributeValues": {":u": {"S": owner}, ":p": {"S": f"share#{transcript_id}#"}},
            "ConsistentRead": True,
        }
        with translating("list share links"):
            while True:
                response = aws.client("dynamodb").query(**kwargs)
                items += [deserialize(i) for i in response.get("Items", [])]
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return items

    def delete_lookup(self, digest: str) -> None:
        """The link stops opening (first step of removing it)."""
        with translating("delete share link"):
            aws.client("dynamodb").delete_item(
                TableName=self._table, Key={"user_id": {"S": lookup_key(digest)}, "item": {"S": LOOKUP_ITEM}}
            )

    def delete_owned(self, owner: str, transcript_id: str, share_id: str) -> None:
        """The owner's item (last step of removing a link, so an interrupted removal stays listed)."""
        with translating("delete share link"):
            aws.client("dynamodb").delete_item(
                TableName=self._table,
                Key={"user_id": {"S": owner}, "item": {"S": owner_item(transcript_id, share_id)}},
            )
