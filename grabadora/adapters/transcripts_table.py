"""The `transcripts` table: one item per job, keyed by (user_id, transcript_id)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from grabadora import aws
from grabadora.adapters._errors import translate
from grabadora.adapters.dynamo import deserialize, serialize, value
from grabadora.errors import Conflict, NotFound
from grabadora.models import JobStatus, utc_now
from grabadora.settings import get_settings


class TranscriptsTable:
    def __init__(self, table_name: str | None = None) -> None:
        self._table = table_name or get_settings().transcripts_table

    def create(self, item: dict[str, Any]) -> None:
        """Store a new transcript item; `Conflict` if the id exists."""
        try:
            aws.client("dynamodb").put_item(
                TableName=self._table,
                Item=serialize(item),
                ConditionExpression="attribute_not_exists(transcript_id)",
            )
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "create transcript") from e

    def get(self, user_id: str, transcript_id: str) -> dict[str, Any]:
        """The user's transcript item, or `NotFound` (also for other users' ids)."""
        try:
            response = aws.client("dynamodb").get_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "transcript_id": {"S": transcript_id}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "read transcript") from e
        if "Item" not in response:
            raise NotFound("transcript not found")
        return deserialize(response["Item"])

    def query_page(
        self,
        user_id: str,
        *,
        start_key: dict[str, Any] | None,
        page_size: int,
        filter_expression: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        projection: tuple[str, ...] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the user's items, newest first (ULID sort keys), and the next start key."""
        names = dict(names or {})
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}, **{k: value(v) for k, v in (values or {}).items()}},
            "ScanIndexForward": False,
            "Limit": page_size,
        }
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if projection:
            names.update({f"#p{i}": field for i, field in enumerate(projection)})
            kwargs["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(projection)))
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        try:
            response = aws.client("dynamodb").query(**kwargs)
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "list transcripts") from e
        return [deserialize(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey")

    def update_fields(
        self, user_id: str, transcript_id: str, fields: dict[str, Any], *, condition: str = "attribute_exists(transcript_id)",
        condition_values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Set plain fields (title, tags, corrections, search_text, ...); `Conflict` if the condition fails."""
        sets = ", ".join(f"#f_{k} = :f_{k}" for k in fields)
        return self._update(
            user_id,
            transcript_id,
            f"SET {sets}, updated_at = :now",
            {**{f":f_{k}": v for k, v in fields.items()}, **(condition_values or {})},
            condition=condition,
            names={"#status": "status", **{f"#f_{k}": k for k in fields}} if "#status" in condition
            else {f"#f_{k}": k for k in fields},
        )

    def delete(self, user_id: str, transcript_id: str) -> None:
        """Remove the item (no error if it is already gone)."""
        try:
            aws.client("dynamodb").delete_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "transcript_id": {"S": transcript_id}},
            )
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "delete transcript") from e

    def start_attempt(self, user_id: str, transcript_id: str) -> dict[str, Any]:
        """Mark the job `processing` and count the attempt; `Conflict` if it already ended."""
        return self._update(
            user_id,
            transcript_id,
            "SET #status = :processing, updated_at = :now ADD attempts :one",
            {":processing": JobStatus.PROCESSING.value, ":one": 1, ":queued": JobStatus.QUEUED.value},
            condition="#status IN (:queued, :processing)",
        )

    def set_progress(self, user_id: str, transcript_id: str, progress: float) -> None:
        """Record how far the job is (0..1)."""
        self._update(
            user_id,
            transcript_id,
            "SET progress = :progress, updated_at = :now",
            {":progress": round(progress, 4), ":processing": JobStatus.PROCESSING.value},
            condition="#status = :processing",
            names={"#status": "status"},
        )

    def complete(self, user_id: str, transcript_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Mark the job `completed` with its results; `Conflict` if it already ended."""
        sets = ", ".join(f"#f_{k} = :f_{k}" for k in fields)
        return self._update(
            user_id,
            transcript_id,
            f"SET #status = :completed, progress = :full, updated_at = :now, {sets}",
            {":completed": JobStatus.COMPLETED.value, ":full": 1, ":queued": JobStatus.QUEUED.value,
             ":processing": JobStatus.PROCESSING.value, **{f":f_{k}": v for k, v in fields.items()}},
            condition="#status IN (:queued, :processing)",
            names={"#status": "status", **{f"#f_{k}": k for k in fields}},
        )

    def fail(self, user_id: str, transcript_id: str, reason: str) -> dict[str, Any]:
        """Mark the job (or live session) `failed` with a human-readable reason; `Conflict` if it already ended."""
        return self._update(
            user_id,
            transcript_id,
            "SET #status = :failed, #error = :reason, updated_at = :now",
            {":failed": JobStatus.FAILED.value, ":reason": reason, ":queued": JobStatus.QUEUED.value,
             ":processing": JobStatus.PROCESSING.value, ":live": JobStatus.LIVE.value},
            condition="#status IN (:queued, :processing, :live)",
            names={"#status": "status", "#error": "error"},
        )

    # Live sessions: live (taking audio) → processing (the tail and the final pass) → completed.

    def start_live_attempt(self, user_id: str, transcript_id: str) -> dict[str, Any]:
        """Count a worker's claim of a live session; `Conflict` if the session already ended."""
        return self._update(
            user_id,
            transcript_id,
            "SET updated_at = :now ADD attempts :one",
            {":one": 1, ":live": JobStatus.LIVE.value, ":processing": JobStatus.PROCESSING.value},
            condition="#status IN (:live, :processing)",
        )

    def request_stop(self, user_id: str, transcript_id: str, frames: int | None) -> dict[str, Any]:
        """Ask the session's worker to finish (after `frames` frames, when given); `Conflict` if
        the session is no longer live or was already asked."""
        return self._update(
            user_id,
            transcript_id,
            "SET stop_requested = :user, updated_at = :now" + (", frames_total = :frames" if frames is not None else ""),
            {":user": "user", ":live": JobStatus.LIVE.value, **({":frames": frames} if frames is not None else {})},
            condition="#status = :live AND attribute_not_exists(stop_requested)",
        )

    def end_live(self, user_id: str, transcript_id: str, reason: str) -> dict[str, Any]:
        """The session takes no more audio: `processing` until its transcript is stored;
        `Conflict` if it is not live (an earlier attempt already ended it)."""
        return self._update(
            user_id,
            transcript_id,
            "SET #status = :processing, stop_reason = :reason, updated_at = :now",
            {":processing": JobStatus.PROCESSING.value, ":reason": reason, ":live": JobStatus.LIVE.value},
            condition="#status = :live",
        )

    def add_export(self, user_id: str, transcript_id: str, export_id: str, delivery: dict[str, Any]) -> None:
        """Record a new delivery under the item's `exports` map (export_id → delivery)."""
        # Two steps because DynamoDB cannot create a map and set a key in it in one expression.
        self._update(
            user_id, transcript_id, "SET exports = if_not_exists(exports, :empty)", {":empty": {}},
            condition="attribute_exists(transcript_id)", names={},
        )
        self._update(
            user_id, transcript_id, "SET exports.#id = :delivery, updated_at = :now", {":delivery": delivery},
            condition="attribute_exists(transcript_id)", names={"#id": export_id},
        )

    def update_export(self, user_id: str, transcript_id: str, export_id: str, fields: dict[str, Any]) -> None:
        """Set fields of one recorded delivery (status, attempts, last_error, url, updated_at)."""
        sets = ", ".join(f"exports.#id.#f_{k} = :f_{k}" for k in fields)
        self._update(
            user_id,
            transcript_id,
            f"SET {sets}",
            {f":f_{k}": v for k, v in fields.items()},
            condition="attribute_exists(exports.#id)",
            names={"#id": export_id, **{f"#f_{k}": k for k in fields}},
        )

    def _update(
        self,
        user_id: str,
        transcript_id: str,
        expression: str,
        values: dict[str, Any],
        *,
        condition: str,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if names is None:
            names = {"#status": "status"}
        if ":now" in expression:
            values = {**values, ":now": utc_now()}
        try:
            response = aws.client("dynamodb").update_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}, "transcript_id": {"S": transcript_id}},
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(transcript_id) AND ({condition})",
                **({"ExpressionAttributeNames": names} if names else {}),
                ExpressionAttributeValues={k: value(v) for k, v in values.items()},
                ReturnValues="ALL_NEW",
            )
        except (ClientError, BotoCoreError) as e:
            error = translate(e, "update transcript")
            if isinstance(error, Conflict):
                raise Conflict("the transcript is missing or has already finished") from e
            raise error from e
        return deserialize(response["Attributes"])
