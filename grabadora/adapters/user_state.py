"""The `user-state` table: per-user integration settings and monthly usage (PK user_id, SK item).

Items:
- `integrations`: the user's Notion / Trello / webhook settings. Secret fields are encrypted
  with Fernet (`GRABADORA_SECRETS_KEY`) before they reach DynamoDB and are never returned by
  the API; only the exporter decrypts them.
- `languages`: the Whisper codes of the languages the user speaks, first preferred; a job with
  no language is detected among them (kept here, keyed by user id, so API-key callers have them too).
- `usage#YYYY-MM`: `audio_seconds` and `jobs` added once per completed job (UTC month).
- `in-flight`: the user's queued, running and live jobs, each with the audio seconds it holds
  against the quota (`holds`: job id -> {s: seconds, t: since}), under a `version` so that concurrent submits
  serialise (a conditional put; the loser reads again). See `grabadora/services/quota.py`.
- `session`: `token_version`, embedded in every access and stream token; bumping it signs the
  user out everywhere (`grabadora/auth.py`).
- `idempotency#<scope>#<sha256 of the key>`: what a request with an `Idempotency-Key` created
  (`{fingerprint, result, created}`), so a retry gets the same answer; `ttl` 24 h.
- `live-cancelled#<live_id>`: a live session its user discarded (`POST /live/{id}/cancel`),
  so a repeated cancel answers the same; `ttl` 48 h.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from grabadora import aws
from grabadora.adapters._errors import translate, translating
from grabadora.adapters.dynamo import deserialize, serialize, value
from grabadora.errors import Conflict, GrabadoraError, NotFound
from grabadora.models import utc_now
from grabadora.settings import get_settings

INTEGRATIONS_ITEM = "integrations"
LANGUAGES_ITEM = "languages"  # the languages the user speaks (detection chooses among them)
IN_FLIGHT_ITEM = "in-flight"
SESSION_ITEM = "session"
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
    def __init__(self, table_name: str | None = None, *, secrets_key: SecretStr | None = None) -> None:
        """`secrets_key` (the Fernet key of `IntegrationSettings`) is given by the processes that
        read or write integration secrets (API, exporter); the others never touch them."""
        self._table = table_name or get_settings().user_state_table
        self._fernet = _fernet(secrets_key.get_secret_value()) if secrets_key is not None else None

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

    def _cipher(self) -> Fernet:
        if self._fernet is None:
            raise RuntimeError("this UserStateTable was built without the secrets key")
        return self._fernet

    def _encrypt(self, secret: str) -> str:
        return self._cipher().encrypt(secret.encode("utf-8")).decode("ascii")

    def _decrypt(self, token: str) -> str:
        return self._cipher().decrypt(token.encode("ascii")).decode("utf-8")

    # Languages --------------------------------------------------------------------------

    def get_languages(self, user_id: str) -> list[str] | None:
        """The languages the user speaks, first preferred; None when never set."""
        return self._get(user_id, LANGUAGES_ITEM).get("languages")

    def put_languages(self, user_id: str, languages: list[str]) -> None:
        self._put({"user_id": user_id, "item": LANGUAGES_ITEM, "languages": languages, "updated_at": utc_now()})

    # Usage ------------------------------------------------------------------------------

    def add_usage(self, user_id: str, audio_seconds: float, month: str | None = None, jobs: int = 1) -> None:
        """Count one finished job's audio in the month's total (`jobs=0`: audio of a discarded
        live session, transcribed but kept as no job)."""
        with translating("record usage"):
            aws.client("dynamodb").update_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "item": {"S": f"usage#{month or month_of()}"}},
                UpdateExpression="ADD audio_seconds :s, jobs :one SET updated_at = :now",
                ExpressionAttributeValues={
                    ":s": value(round(audio_seconds, 3)),
                    ":one": value(jobs),
                    ":now": value(utc_now()),
                },
            )

    def usage(self, user_id: str, month: str | None = None) -> dict[str, Any]:
        """`{month, audio_seconds, jobs}` for one month (zeros when nothing ran)."""
        month = month or month_of()
        item = self._get(user_id, f"usage#{month}")
        return {"month": month, "audio_seconds": item.get("audio_seconds", 0), "jobs": item.get("jobs", 0)}

    # Jobs in flight (quota reservations) ------------------------------------------------

    def in_flight(self, user_id: str) -> tuple[dict[str, dict[str, float]], int]:
        """(job id -> {s: seconds held, t: epoch held since}, version) of the user's jobs in
        flight (consistent read)."""
        item = self._get(user_id, IN_FLIGHT_ITEM)
        holds = {job: {k: float(v) for k, v in hold.items()} for job, hold in item.get("holds", {}).items()}
        return holds, int(item.get("version", 0))

    def put_in_flight(self, user_id: str, holds: dict[str, dict[str, float]], version: int) -> None:
        """Replace the holds if nobody else did since `version` was read; `Conflict` otherwise."""
        try:
            aws.client("dynamodb").put_item(
                TableName=self._table,
                Item=serialize({
                    "user_id": user_id, "item": IN_FLIGHT_ITEM, "version": version + 1,
                    "holds": {job: {k: round(v, 3) for k, v in hold.items()} for job, hold in holds.items()},
                    "updated_at": utc_now(),
                }),
                ConditionExpression="attribute_not_exists(version) OR version = :v",
                ExpressionAttributeValues={":v": value(version)},
            )
        except (ClientError, BotoCoreError) as e:
            error = translate(e, "reserve quota")
            if isinstance(error, Conflict):
                raise Conflict("the jobs in flight changed meanwhile") from e
            raise error from e

    # Declared uploads -------------------------------------------------------------------

    def put_upload(self, user_id: str, upload_id: str, size: int, content_type: str, ttl: int) -> None:
        """What `POST /uploads` declared, for `POST /transcribe` to check the stored object against."""
        self._put({"user_id": user_id, "item": f"upload#{upload_id}", "size": size, "content_type": content_type, "ttl": ttl})

    def get_upload(self, user_id: str, upload_id: str) -> dict[str, Any] | None:
        item = self._get(user_id, f"upload#{upload_id}")
        return item or None

    # Idempotency keys and discarded live sessions ----------------------------------------

    def claim_idempotency(
        self, user_id: str, scope: str, key_hash: str, record: dict[str, Any], ttl_seconds: int
    ) -> dict[str, Any] | None:
        """Record `record` for the key unless a live (unexpired) record is there: None when
        claimed, else the record already there. DynamoDB's TTL deletes expired items late
        (up to days), so an expired one counts as absent."""
        now = int(time.time())
        item = {"user_id": user_id, "item": f"idempotency#{scope}#{key_hash}", **record,
                "created": now, "ttl": now + ttl_seconds}
        for _ in range(3):
            try:
                aws.client("dynamodb").put_item(
                    TableName=self._table,
                    Item=serialize(item),
                    ConditionExpression="attribute_not_exists(#i) OR #t < :now",
                    ExpressionAttributeNames={"#i": "item", "#t": "ttl"},
                    ExpressionAttributeValues={":now": value(now)},
                )
                return None
            except (ClientError, BotoCoreError) as e:
                error = translate(e, "record idempotency key")
                if not isinstance(error, Conflict):
                    raise error from e
            existing = self._get(user_id, f"idempotency#{scope}#{key_hash}")
            if existing:  # else it expired and went between the two calls: claim again
                return existing
        raise Conflict("the idempotency key changed meanwhile; try again")

    def forget_idempotency(self, user_id: str, scope: str, key_hash: str) -> None:
        """Drop a claim whose request failed, so the client's retry runs it again."""
        with translating("forget idempotency key"):
            aws.client("dynamodb").delete_item(
                TableName=self._table, Key={"user_id": {"S": user_id}, "item": {"S": f"idempotency#{scope}#{key_hash}"}}
            )

    def mark_live_cancelled(self, user_id: str, live_id: str, ttl_seconds: int = 48 * 3600) -> None:
        self._put({"user_id": user_id, "item": f"live-cancelled#{live_id}", "created_at": utc_now(),
                   "ttl": int(time.time()) + ttl_seconds})

    def live_cancelled(self, user_id: str, live_id: str) -> bool:
        item = self._get(user_id, f"live-cancelled#{live_id}")
        return bool(item) and int(item.get("ttl", 0)) >= int(time.time())

    # Sessions ---------------------------------------------------------------------------

    def open_session(self, user_id: str) -> int:
        """The user's token version, recording the account here (version 0) if it is not yet."""
        with translating("open session"):
            response = aws.client("dynamodb").update_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "item": {"S": SESSION_ITEM}},
                UpdateExpression="SET token_version = if_not_exists(token_version, :zero)",
                ExpressionAttributeValues={":zero": value(0)},
                ReturnValues="ALL_NEW",
            )
        return int(deserialize(response["Attributes"])["token_version"])

    def token_version(self, user_id: str) -> int | None:
        """The user's current token version; None when the account does not exist (any more)."""
        item = self._get(user_id, SESSION_ITEM)
        return int(item["token_version"]) if "token_version" in item else None

    def bump_token_version(self, user_id: str) -> int:
        """Invalidate every token issued so far; the new version. `NotFound` for no account."""
        try:
            response = aws.client("dynamodb").update_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "item": {"S": SESSION_ITEM}},
                UpdateExpression="ADD token_version :one SET updated_at = :now",
                ConditionExpression="attribute_exists(token_version)",
                ExpressionAttributeValues={":one": value(1), ":now": value(utc_now())},
                ReturnValues="UPDATED_NEW",
            )
        except (ClientError, BotoCoreError) as e:
            error = translate(e, "sign out everywhere")
            if isinstance(error, Conflict):
                raise NotFound("no such account") from e
            raise error from e
        return int(deserialize(response["Attributes"])["token_version"])

    def close_session(self, user_id: str) -> None:
        """Forget the account's session record: every token it issued stops working."""
        with translating("close session"):
            aws.client("dynamodb").delete_item(
                TableName=self._table, Key={"user_id": {"S": user_id}, "item": {"S": SESSION_ITEM}}
            )

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
