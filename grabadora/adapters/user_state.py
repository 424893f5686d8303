"""The `user-state` table: per-user integration settings and monthly usage (PK user_id, SK item).

Items:
- `integrations`: the user's Notion / Trello / webhook settings. Secret fields are encrypted
  with Fernet (`GRABADORA_SECRETS_KEY`) before they reach DynamoDB and are never returned by
  the API; only the exporter decrypts them.
- `usage#YYYY-MM`: `audio_seconds` and `jobs` added once per completed job (UTC month).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.adapters.dynamo import deserialize, serialize, value
from grabadora.errors import GrabadoraError
from grabadora.models import utc_now
from grabadora.settings import get_settings

INTEGRATIONS_ITEM = "integrations"
# Which fields of each integration are secrets (stored encrypted, never returned).
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "notion": frozenset({"token"}),
    "trello": frozenset({"key", "token"}),
    "webhook": frozenset({"secret"}),
}


class SecretsUnreadable(GrabadoraError):
    """Stored secrets cannot be decrypted with the configured key (the key was rotated)."""


def month_of(timestamp: datetime | None = None) -> str:
    return (timestamp or datetime.now(UTC)).strftime("%Y-%m")


@functools.cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode("ascii"))


class UserStateTable:
    def __init__(self, table_name: str | None = None) -> None:
        settings = get_settings()
        self._table = table_name or settings.user_state_table
        self._fernet = _fernet(settings.secrets_key.get_secret_value())

    # Integrations -----------------------------------------------------------------------

    def get_integrations(self, user_id: str) -> dict[str, dict[str, Any]]:
        """The user's integration settings with secrets decrypted (for the exporter only)."""
        stored = self._get(user_id, INTEGRATIONS_ITEM).get("settings", {})
        try:
            return {
                name: {k: self._decrypt(v) if k in SECRET_FIELDS.get(name, ()) else v for k, v in fields.items()}
                for name, fields in stored.items()
            }
        except InvalidToken as e:
            raise SecretsUnreadable("stored integration secrets cannot be decrypted; enter them again") from e

    def put_integrations(self, user_id: str, settings: dict[str, dict[str, Any]]) -> None:
        """Replace the user's integration settings; secret fields are encrypted here."""
        encrypted = {
            name: {
                k: self._encrypt(v) if k in SECRET_FIELDS.get(name, ()) and v is not None else v
                for k, v in fields.items()
                if v is not None
            }
            for name, fields in settings.items()
        }
        self._put({"user_id": user_id, "item": INTEGRATIONS_ITEM, "settings": encrypted, "updated_at": utc_now()})

    def _encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def _decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")

    # Usage ------------------------------------------------------------------------------

    def add_usage(self, user_id: str, audio_seconds: float, month: str | None = None) -> None:
        """Count one finished job's audio in the month's total."""
        with translating("record usage"):
            aws.client("dynamodb").update_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "item": {"S": f"usage#{month or month_of()}"}},
                UpdateExpression="ADD audio_seconds :s, jobs :one SET updated_at = :now",
                ExpressionAttributeValues={
                    ":s": value(round(audio_seconds, 3)),
                    ":one": value(1),
                    ":now": value(utc_now()),
                },
            )

    def usage(self, user_id: str, month: str | None = None) -> dict[str, Any]:
        """`{month, audio_seconds, jobs}` for one month (zeros when nothing ran)."""
        month = month or month_of()
        item = self._get(user_id, f"usage#{month}")
        return {"month": month, "audio_seconds": item.get("audio_seconds", 0), "jobs": item.get("jobs", 0)}

    # ------------------------------------------------------------------------------------

    def _get(self, user_id: str, item: str) -> dict[str, Any]:
        with translating("read user state"):
            response = aws.client("dynamodb").get_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "item": {"S": item}},
                ConsistentRead=True,
            )
        return deserialize(response["Item"]) if "Item" in response else {}

    def _put(self, item: dict[str, Any]) -> None:
        with translating("write user state"):
            aws.client("dynamodb").put_item(TableName=self._table, Item=serialize(item))

    def delete_all(self, user_id: str) -> None:
        """Forget everything stored for a user (account deletion)."""
        with translating("delete user state"):
            items = aws.client("dynamodb").query(
                TableName=self._table,
                KeyConditionExpression="user_id = :u",
                ExpressionAttributeValues={":u": {"S": user_id}},
                ProjectionExpression="#i",
                ExpressionAttributeNames={"#i": "item"},
            )["Items"]
            for key in items:
                aws.client("dynamodb").delete_item(
                    TableName=self._table, Key={"user_id": {"S": user_id}, "item": key["item"]}
                )


class ApiKeysTable:
    """API keys (item `apikey#<key_id>`): only a SHA-256 of each key's secret part is stored."""

    def __init__(self, table_name: str | None = None) -> None:
        self._table = table_name or get_settings().user_state_table

    def put(self, user_id: str, key_id: str, record: dict[str, Any]) -> None:
        with translating("store API key"):
            aws.client("dynamodb").put_item(
                TableName=self._table,
                Item=serialize({"user_id": user_id, "item": f"apikey#{key_id}", **record}),
                ConditionExpression="attribute_not_exists(#i)",
                ExpressionAttributeNames={"#i": "item"},
            )

    def get(self, user_id: str, key_id: str) -> dict[str, Any] | None:
        with translating("read API key"):
            response = aws.client("dynamodb").get_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "item": {"S": f"apikey#{key_id}"}},
                ConsistentRead=True,
            )
        return deserialize(response["Item"]) if "Item" in response else None

    def list(self, user_id: str) -> list[dict[str, Any]]:
        with translating("list API keys"):
            response = aws.client("dynamodb").query(
                TableName=self._table,
                KeyConditionExpression="user_id = :u AND begins_with(#i, :p)",
                ExpressionAttributeNames={"#i": "item"},
                ExpressionAttributeValues={":u": {"S": user_id}, ":p": {"S": "apikey#"}},
            )
        return [deserialize(i) for i in response.get("Items", [])]

    def delete(self, user_id: str, key_id: str) -> bool:
        """Revoke; whether the key existed."""
        with translating("revoke API key"):
            response = aws.client("dynamodb").delete_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "item": {"S": f"apikey#{key_id}"}},
                ReturnValues="ALL_OLD",
            )
        return "Attributes" in response
