"""The `events` table: each job's gap-free, replayable event log (PK job_id, SK seq)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.adapters.doorbell import local_doorbell
from grabadora.errors import Conflict
from grabadora.models import JobEvent
from grabadora.settings import get_settings

# DynamoDB's TransactWriteItems limit.
MAX_TRANSACTION_ITEMS = 100


@dataclass(frozen=True)
class LogTail:
    """Where a job's log stands: the next free seq and the last segment fully committed."""

    next_seq: int
    last_segment: int  # -1 when no segment is committed yet
    terminal: str | None  # "completed" / "error" once the job has ended


class EventsTable:
    def __init__(self, table_name: str | None = None) -> None:
        settings = get_settings()
        self._table = table_name or settings.events_table
        self._ttl_seconds = settings.events_ttl_days * 86400

    def append(
        self, events: list[JobEvent], *, segment: int | None = None, segments: list[int | None] | None = None
    ) -> None:
        """Commit events atomically, each only if its seq is still free; `Conflict` otherwise.

        `segment` labels them all with the transcript segment they belong to, `segments` each
        one (for several segments in one transaction); `tail` reads the labels back.
        The conditional put is what keeps seq gap-free and unique when two workers hold the
        same job: the slower one's transaction is cancelled as a whole.
        """
        expires = int(time.time()) + self._ttl_seconds
        labels = segments if segments is not None else [segment] * len(events)
        for start in range(0, len(events), MAX_TRANSACTION_ITEMS):
            chunk = events[start : start + MAX_TRANSACTION_ITEMS]
            items = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": self._item(event, expires, label),
                        "ConditionExpression": "attribute_not_exists(seq)",
                    }
                }
                for event, label in zip(chunk, labels[start : start + MAX_TRANSACTION_ITEMS], strict=True)
            ]
            with translating("append job events", conflict=f"events from seq {chunk[0].seq} of job {chunk[0].job_id} already exist"):
                aws.client("dynamodb").transact_write_items(TransactItems=items)
        if events:
            local_doorbell.ring(events[0].job_id)

    def read(self, job_id: str, after_seq: int = -1, limit: int = 1000) -> list[JobEvent]:
        """Events with seq > after_seq, in order (strongly consistent)."""
        with translating("read job events"):
            response = aws.client("dynamodb").query(
                TableName=self._table,
                KeyConditionExpression="job_id = :job AND seq > :after",
                ExpressionAttributeValues={":job": {"S": job_id}, ":after": {"N": str(after_seq)}},
                ConsistentRead=True,
                Limit=limit,
            )
        return [self._event(item) for item in response.get("Items", [])]

    def last(self, job_id: str) -> JobEvent | None:
        """The job's latest event, or None before its first (strongly consistent)."""
        with translating("read job events"):
            response = aws.client("dynamodb").query(
                TableName=self._table,
                KeyConditionExpression="job_id = :job",
                ExpressionAttributeValues={":job": {"S": job_id}},
                ConsistentRead=True,
                ScanIndexForward=False,
                Limit=1,
            )
        items = response.get("Items", [])
        return self._event(items[0]) if items else None

    def tail(self, job_id: str) -> LogTail:
        """The next free seq, the last committed segment and the terminal event, if any."""
        next_seq, last_segment, terminal = 0, -1, None
        after = -1
        while True:
            with translating("read job log tail"):
                response = aws.client("dynamodb").query(
                    TableName=self._table,
                    KeyConditionExpression="job_id = :job AND seq > :after",
                    ExpressionAttributeValues={":job": {"S": job_id}, ":after": {"N": str(after)}},
                    ProjectionExpression="seq, seg, #t",
                    ExpressionAttributeNames={"#t": "type"},
                    ConsistentRead=True,
                )
            items = response.get("Items", [])
            for item in items:
                seq = int(item["seq"]["N"])
                next_seq = seq + 1
                if "seg" in item:
                    last_segment = max(last_segment, int(item["seg"]["N"]))
                if item["type"]["S"] in ("completed", "error"):
                    terminal = item["type"]["S"]
            if "LastEvaluatedKey" not in response:
                return LogTail(next_seq, last_segment, terminal)
            after = int(response["LastEvaluatedKey"]["seq"]["N"])

    def delete_job(self, job_id: str) -> None:
        """Remove a job's whole log."""
        after = -1
        while True:
            keys = [e.seq for e in self.read(job_id, after, limit=25)]
            if not keys:
                return
            with translating("delete job events"):
                aws.client("dynamodb").batch_write_item(
                    RequestItems={
                        self._table: [
                            {"DeleteRequest": {"Key": {"job_id": {"S": job_id}, "seq": {"N": str(s)}}}} for s in keys
                        ]
                    }
                )
            after = keys[-1]

    def _item(self, event: JobEvent, expires: int, segment: int | None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "job_id": {"S": event.job_id},
            "seq": {"N": str(event.seq)},
            "type": {"S": event.type},
            "data": {"S": json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))},
            "ttl": {"N": str(expires)},
        }
        if segment is not None:
            item["seg"] = {"N": str(segment)}
        return item

    @staticmethod
    def _event(item: dict[str, Any]) -> JobEvent:
        return JobEvent(
            job_id=item["job_id"]["S"],
            seq=int(item["seq"]["N"]),
            type=item["type"]["S"],
            data=json.loads(item["data"]["S"]),
        )
