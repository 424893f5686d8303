"""The `transcripts` table: one `TranscriptItem` per job, keyed by (user_id, transcript_id).

Every expression, projection and listing cursor of this table is built here; callers speak
`TranscriptItem`, `TranscriptResults`, `TranscriptSummary` and `ExportDelivery`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.adapters.dynamo import deserialize, serialize, value
from grabadora.errors import InvalidInput, NotFound
from grabadora.models import (
    ExportDelivery,
    JobStatus,
    TranscriptItem,
    TranscriptResults,
    TranscriptSummary,
    utc_now,
)
from grabadora.settings import get_settings

_ENDED = "the transcript is missing or has already finished"


class TranscriptsTable:
    def __init__(self, table_name: str | None = None) -> None:
        self._table = table_name or get_settings().transcripts_table

    # Reading --------------------------------------------------------------------------------

    def get(self, user_id: str, transcript_id: str) -> TranscriptItem:
        """The user's transcript, or `NotFound` (also for other users' ids)."""
        with translating("read transcript"):
            response = aws.client("dynamodb").get_item(
                TableName=self._table, Key=self._key(user_id, transcript_id), ConsistentRead=True
            )
        if "Item" not in response:
            raise NotFound("transcript not found", code="transcript_not_found")
        return TranscriptItem.model_validate(deserialize(response["Item"]))

    def list_page(
        self,
        user_id: str,
        *,
        terms: list[str],
        status: JobStatus | None,
        limit: int,
        cursor: str | None,
        source_sha256: str | None = None,
    ) -> tuple[list[TranscriptSummary], str | None]:
        """One page of the user's transcripts, newest first (ULID sort keys), whose folded
        `search_text` contains every term (and made from the file with `source_sha256`, when
        given: no index on it, a filter like the others), and the cursor of the next page (None
        on the last)."""
        conditions, names, values = [], {}, {":user": {"S": user_id}}
        for i, term in enumerate(terms):
            conditions.append(f"contains(search_text, :t{i})")
            values[f":t{i}"] = value(term)
        if status is not None:
            conditions.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = value(status.value)
        if source_sha256 is not None:
            conditions.append("source_sha256 = :sha")
            values[":sha"] = value(source_sha256)
        fields = TranscriptSummary.stored_fields()
        names.update({f"#p{i}": field for i, field in enumerate(fields)})
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": values,
            "ExpressionAttributeNames": names,
            "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(fields))),
            "ScanIndexForward": False,
            # Filtered queries read ahead, since DynamoDB applies the filter after the limit.
            "Limit": limit if not conditions else max(limit * 4, 50),
        }
        if conditions:
            query["FilterExpression"] = " AND ".join(conditions)
        start = self._decode_cursor(cursor, user_id) if cursor else None
        items: list[TranscriptSummary] = []
        while True:
            if start:
                query["ExclusiveStartKey"] = start
            with translating("list transcripts"):
                response = aws.client("dynamodb").query(**query)
            page = response.get("Items", [])
            last_key = response.get("LastEvaluatedKey")
            for n, raw in enumerate(page):
                items.append(TranscriptSummary.model_validate(deserialize(raw)))
                if len(items) == limit:
                    more = n < len(page) - 1 or last_key is not None
                    return items, self._encode_cursor(self._key(user_id, items[-1].id)) if more else None
            if last_key is None:
                return items, None
            start = last_key

    # Writing --------------------------------------------------------------------------------

    def create(self, item: TranscriptItem) -> None:
        """Store a new transcript; `Conflict` if the id exists."""
        with translating("create transcript"):
            aws.client("dynamodb").put_item(
                TableName=self._table,
                Item=serialize(item.model_dump(mode="json", exclude_none=True)),
                ConditionExpression="attribute_not_exists(transcript_id)",
            )

    def save_edit(
        self,
        user_id: str,
        transcript_id: str,
        *,
        version: int,
        title: str | None = None,
        tags: list[str] | None = None,
        corrections: dict[int, str] | None = None,
        speaker_names: dict[str, str] | None = None,
        search_text: str | None = None,
        preview: str | None = None,
    ) -> TranscriptItem:
        """The user's edit, written only if the item is still at `version` (it becomes
        `version + 1`); `Conflict` if someone else wrote in between."""
        fields: dict[str, Any] = {"version": version + 1}
        if title is not None:
            fields["title"] = title
        if tags is not None:
            fields["tags"] = tags
        if corrections is not None:
            fields["corrections"] = {str(k): v for k, v in sorted(corrections.items())}
            fields["edited_at"] = utc_now()
        if speaker_names is not None:
            fields["speaker_names"] = dict(sorted(speaker_names.items()))
            fields["edited_at"] = utc_now()
        if search_text is not None:
            fields["search_text"] = search_text
        if preview is not None:
            fields["preview"] = preview
        condition = "#f_version = :expected"
        if version == 0:
            condition = f"attribute_not_exists(#f_version) OR {condition}"
        return self._set(user_id, transcript_id, fields, condition, {":expected": version})

    def set_language(self, user_id: str, transcript_id: str, language: str) -> None:
        """Record the language a job (or live session) was found to speak."""
        self._set(user_id, transcript_id, {"language": language}, "attribute_exists(transcript_id)", {})

    def delete(self, user_id: str, transcript_id: str) -> None:
        """Remove the item (no error if it is already gone)."""
        with translating("delete transcript"):
            aws.client("dynamodb").delete_item(TableName=self._table, Key=self._key(user_id, transcript_id))

    # A job's life: queued → processing → completed | failed ------------------------------------

    def start_attempt(self, user_id: str, transcript_id: str) -> TranscriptItem:
        """Mark the job `processing` and count the attempt; `Conflict` if it already ended."""
        return self._update(
            user_id, transcript_id,
            "SET #status = :processing, updated_at = :now ADD attempts :one",
            {":processing": JobStatus.PROCESSING, ":one": 1, ":queued": JobStatus.QUEUED},
            condition="#status IN (:queued, :processing)",
        )

    def set_progress(self, user_id: str, transcript_id: str, progress: float) -> None:
        """Record how far the job is (0..1)."""
        self._update(
            user_id, transcript_id,
            "SET progress = :progress, updated_at = :now",
            {":progress": round(progress, 4), ":processing": JobStatus.PROCESSING},
            condition="#status = :processing",
        )

    def complete(self, user_id: str, transcript_id: str, results: TranscriptResults) -> TranscriptItem:
        """Mark the job `completed` with its results; `Conflict` if it already ended."""
        fields = {**results.model_dump(mode="json", exclude_none=True), "usage": results.usage}
        sets = ", ".join(f"#f_{k} = :f_{k}" for k in fields)
        return self._update(
            user_id, transcript_id,
            f"SET #status = :completed, progress = :full, updated_at = :now, {sets}",
            {":completed": JobStatus.COMPLETED, ":full": 1, ":queued": JobStatus.QUEUED,
             ":processing": JobStatus.PROCESSING, **{f":f_{k}": v for k, v in fields.items()}},
            condition="#status IN (:queued, :processing)",
            names={f"#f_{k}": k for k in fields},
        )

    def fail(self, user_id: str, transcript_id: str, reason: str) -> TranscriptItem:
        """Mark the job (or live session) `failed` with a human-readable reason; `Conflict` if it already ended."""
        return self._update(
            user_id, transcript_id,
            "SET #status = :failed, #error = :reason, updated_at = :now",
            {":failed": JobStatus.FAILED, ":reason": reason, ":queued": JobStatus.QUEUED,
             ":processing": JobStatus.PROCESSING, ":live": JobStatus.LIVE},
            condition="#status IN (:queued, :processing, :live)",
            names={"#error": "error"},
        )

    # Live sessions: live (taking audio) → processing (the tail and the final pass) → completed.

    def start_live_attempt(self, user_id: str, transcript_id: str) -> TranscriptItem:
        """Count a worker's claim of a live session; `Conflict` if the session already ended."""
        return self._update(
            user_id, transcript_id,
            "SET updated_at = :now ADD attempts :one",
            {":one": 1, ":live": JobStatus.LIVE, ":processing": JobStatus.PROCESSING},
            condition="#status IN (:live, :processing)",
        )

    def request_stop(self, user_id: str, transcript_id: str, frames: int | None) -> TranscriptItem:
        """Ask the session's worker to finish (after `frames` frames, when given); `Conflict` if
        the session is no longer live or was already asked."""
        return self._update(
            user_id, transcript_id,
            "SET stop_requested = :user, updated_at = :now" + (", frames_total = :frames" if frames is not None else ""),
            {":user": "user", ":live": JobStatus.LIVE, **({":frames": frames} if frames is not None else {})},
            condition="#status = :live AND attribute_not_exists(stop_requested)",
        )

    def end_live(self, user_id: str, transcript_id: str, reason: str) -> TranscriptItem:
        """The session takes no more audio: `processing` until its transcript is stored;
        `Conflict` if it is not live (an earlier attempt already ended it)."""
        return self._update(
            user_id, transcript_id,
            "SET #status = :processing, stop_reason = :reason, updated_at = :now",
            {":processing": JobStatus.PROCESSING, ":reason": reason, ":live": JobStatus.LIVE},
            condition="#status = :live",
        )

    # Exports ----------------------------------------------------------------------------------

    def add_export(self, user_id: str, transcript_id: str, export_id: str, delivery: ExportDelivery) -> None:
        """Record a new delivery under the item's `exports` map (export_id → delivery)."""
        # Two steps because DynamoDB cannot create a map and set a key in it in one expression.
        self._update(
            user_id, transcript_id, "SET exports = if_not_exists(exports, :empty)", {":empty": {}},
            condition="attribute_exists(transcript_id)", names={},
        )
        self._update(
            user_id, transcript_id, "SET exports.#id = :delivery, updated_at = :now",
            {":delivery": delivery.model_dump(mode="json", exclude_none=True)},
            condition="attribute_exists(transcript_id)", names={"#id": export_id},
        )

    def update_export(self, user_id: str, transcript_id: str, export_id: str, **fields: Any) -> None:
        """Set fields of one recorded delivery (status, attempts, last_error, url, delivered_at)."""
        unknown = set(fields) - set(ExportDelivery.model_fields)
        if unknown:
            raise ValueError(f"not fields of an export delivery: {sorted(unknown)}")
        fields = {**fields, "updated_at": utc_now()}
        sets = ", ".join(f"exports.#id.#f_{k} = :f_{k}" for k in fields)
        self._update(
            user_id, transcript_id, f"SET {sets}", {f":f_{k}": v for k, v in fields.items()},
            condition="attribute_exists(exports.#id)",
            names={"#id": export_id, **{f"#f_{k}": k for k in fields}},
        )

    # Internals --------------------------------------------------------------------------------

    @staticmethod
    def _key(user_id: str, transcript_id: str) -> dict[str, Any]:
        return {"user_id": {"S": user_id}, "transcript_id": {"S": transcript_id}}

    @staticmethod
    def _encode_cursor(key: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str, user_id: str) -> dict[str, Any]:
        try:
            key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if set(key) != {"user_id", "transcript_id"} or key["user_id"] != {"S": user_id}:
                raise ValueError
            transcript_id = key["transcript_id"]
            if set(transcript_id) != {"S"} or not isinstance(transcript_id["S"], str) or not transcript_id["S"].isalnum():
                raise ValueError
            return key
        except (ValueError, KeyError, TypeError):
            raise InvalidInput("cursor: not a cursor from this listing") from None

    def _set(
        self, user_id: str, transcript_id: str, fields: dict[str, Any], condition: str, condition_values: dict[str, Any]
    ) -> TranscriptItem:
        sets = ", ".join(f"#f_{k} = :f_{k}" for k in fields)
        return self._update(
            user_id, transcript_id, f"SET {sets}, updated_at = :now",
            {**{f":f_{k}": v for k, v in fields.items()}, **condition_values},
            condition=condition, names={f"#f_{k}": k for k in fields},
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
    ) -> TranscriptItem:
        names = dict(names if names is not None else {})
        if "#status" in expression or "#status" in condition:
            names["#status"] = "status"
        if ":now" in expression:
            values = {**values, ":now": utc_now()}
        with translating("update transcript", conflict=_ENDED):
            response = aws.client("dynamodb").update_item(
                TableName=self._table,
                Key=self._key(user_id, transcript_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(transcript_id) AND ({condition})",
                **({"ExpressionAttributeNames": names} if names else {}),
                ExpressionAttributeValues={k: value(v.value if isinstance(v, JobStatus) else v) for k, v in values.items()},
                ReturnValues="ALL_NEW",
            )
        return TranscriptItem.model_validate(deserialize(response["Attributes"]))
