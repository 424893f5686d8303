"""The `events` table: each job's gap-free, replayable event log (PK job_id, SK seq).

Events are stored packed: one item holds a run of consecutive events (a transcript segment's
words and its progress, a live step's words), keyed by the run's first seq, with `n` events in
`events`. A word per item made an hour of audio ~11,000 transactional writes (and as many
reads for every stream that replays it); a segment per item makes it ~600 (benchmarks/hour.py's hour streamed 573 progress events, about one per segment). What clients see is
unchanged: every event keeps its own seq, gap-free from 0, and a stream resumes after any of
them (docs/DECISIONS.md "Event log packing").
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.errors import Conflict
from grabadora.models import JobEvent
from grabadora.settings import get_settings

# DynamoDB's TransactWriteItems limit (items per transaction).
MAX_TRANSACTION_ITEMS = 100
# One item's serialised events stay under this (DynamoDB allows 400 KB; a strongly consistent
# read costs a unit per 4 KB, so a stream resuming mid-pack re-reads at most a few units).
MAX_PACK_BYTES = 16 * 1024

_TERMINAL = ("completed", "error")


@dataclass(frozen=True)
class LogTail:
    """Where a job's log stands: the next free seq and the last segment fully committed."""

    next_seq: int
    last_segment: int  # -1 when no segment is committed yet
    terminal: str | None  # "completed" / "error" once the job has ended


@dataclass(frozen=True)
class Pack:
    """Consecutive events stored as one item, all labelled with one transcript segment (or none)."""

    events: list[JobEvent]
    segment: int | None
    body: str  # the events as stored: a JSON list of [type, data]


def packs(events: list[JobEvent], labels: list[int | None]) -> list[Pack]:
    """Cut events into packs: a new pack where the segment label changes or one would pass
    MAX_PACK_BYTES."""
    result: list[Pack] = []
    run: list[JobEvent] = []
    bodies: list[str] = []
    size = 0
    run_label: int | None = None

    def close() -> None:
        if run:
            result.append(Pack(list(run), run_label, "[" + ",".join(bodies) + "]"))
            run.clear()
            bodies.clear()

    for event, label in zip(events, labels, strict=True):
        body = json.dumps([event.type, event.data], ensure_ascii=False, separators=(",", ":"))
        if run and (label != run_label or size + len(body) + 1 > MAX_PACK_BYTES):
            close()
        if not run:
            run_label, size = label, 1
        run.append(event)
        bodies.append(body)
        size += len(body) + 1
    close()
    return result


def transactions(all_packs: list[Pack]) -> list[list[Pack]]:
    """Group packs into transactions of at most MAX_TRANSACTION_ITEMS, never splitting one
    segment's packs across two unless that segment alone needs more than one transaction."""
    result: list[list[Pack]] = []
    current: list[Pack] = []
    i = 0
    while i < len(all_packs):
        # A segment's packs are consecutive: take them together.
        j = i + 1
        while j < len(all_packs) and all_packs[j].segment is not None and all_packs[j].segment == all_packs[i].segment:
            j += 1
        group = all_packs[i:j]
        if current and len(current) + len(group) > MAX_TRANSACTION_ITEMS:
            result.append(current)
            current = []
        for pack in group:
            if len(current) == MAX_TRANSACTION_ITEMS:
                result.append(current)
                current = []
            current.append(pack)
        i = j
    if current:
        result.append(current)
    return result


class EventsTable:
    # Pack ends this process has read, per job (bounded): a reader continuing from one needs
    # no look back for a pack that started before its position.
    _MAX_KNOWN_ENDS = 4096

    def __init__(self, table_name: str | None = None) -> None:
        settings = get_settings()
        self._table = table_name or settings.events_table
        self._ttl_seconds = settings.events_ttl_days * 86400
        self._known_ends: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def append(
        self, events: list[JobEvent], *, segment: int | None = None, segments: list[int | None] | None = None
    ) -> None:
        """Commit events, each segment's atomically, only if their seqs are still free; `Conflict` otherwise.

        `segment` labels them all with the transcript segment they belong to, `segments` each
        one; `tail` reads the labels back. Events must continue the log (the first one's seq is
        the log's next free seq): the conditional put on the pack's first seq is then what
        keeps seq gap-free and unique when two workers hold the same job — both start their
        packs at the same free seq, and the slower one's transaction is cancelled as a whole.
        """
        if not events:
            return
        expires = int(time.time()) + self._ttl_seconds
        labels = segments if segments is not None else [segment] * len(events)
        for chunk in transactions(packs(events, labels)):
            items = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": self._item(pack, expires),
                        "ConditionExpression": "attribute_not_exists(seq)",
                    }
                }
                for pack in chunk
            ]
            first = chunk[0].events[0]
            with translating("append job events", conflict=f"events from seq {first.seq} of job {first.job_id} already exist"):
                aws.client("dynamodb").transact_write_items(TransactItems=items)

    def read(self, job_id: str, after_seq: int = -1, limit: int = 1000) -> list[JobEvent]:
        """Events with seq > after_seq, in order, from at most `limit` items (strongly consistent).

        The batch always ends at the end of a pack, so reading on from its last seq needs one
        query; a position inside a pack (a client's Last-Event-ID) costs one more, once.
        """
        events: list[JobEvent] = []
        if after_seq >= 0 and not self._is_known_end(job_id, after_seq):
            with translating("read job events"):
                response = aws.client("dynamodb").query(
                    TableName=self._table,
                    KeyConditionExpression="job_id = :job AND seq <= :after",
                    ExpressionAttributeValues={":job": {"S": job_id}, ":after": {"N": str(after_seq)}},
                    ConsistentRead=True,
                    ScanIndexForward=False,
                    Limit=1,
                )
            for item in response.get("Items", []):
                events += [e for e in self._events(item) if e.seq > after_seq]
        with translating("read job events"):
            response = aws.client("dynamodb").query(
                TableName=self._table,
                KeyConditionExpression="job_id = :job AND seq > :after",
                ExpressionAttributeValues={":job": {"S": job_id}, ":after": {"N": str(after_seq)}},
                ConsistentRead=True,
                Limit=limit,
            )
        for item in response.get("Items", []):
            events += self._events(item)
        if events:
            self._remember_end(job_id, events[-1].seq)
        return events

    def last(self, job_id: str) -> JobEvent | None:
        """The job's latest event, or None before its first (strongly consistent)."""
        for item in self._newest_first(job_id, page=1):
            return self._events(item)[-1]
        return None

    def tail(self, job_id: str) -> LogTail:
        """The next free seq, the last committed segment and the terminal event, if any.

        Read from the newest item back, only as far as the last item labelled with a segment."""
        next_seq: int | None = None
        terminal = None
        for item in self._newest_first(job_id, page=8, projection=True):
            if next_seq is None:
                next_seq = int(item["seq"]["N"]) + int(item.get("n", {"N": "1"})["N"])
            if terminal is None and item["type"]["S"] in _TERMINAL:
                terminal = item["type"]["S"]
            if "seg" in item:
                return LogTail(next_seq, int(item["seg"]["N"]), terminal)
        return LogTail(next_seq or 0, -1, terminal)

    def delete_job(self, job_id: str) -> None:
        """Remove a job's whole log."""
        with self._lock:
            self._known_ends.pop(job_id, None)
        while True:
            with translating("read job events"):
                response = aws.client("dynamodb").query(
                    TableName=self._table,
                    KeyConditionExpression="job_id = :job",
                    ExpressionAttributeValues={":job": {"S": job_id}},
                    ProjectionExpression="seq",
                    ConsistentRead=True,
                    Limit=25,
                )
            keys = [item["seq"]["N"] for item in response.get("Items", [])]
            if not keys:
                return
            with translating("delete job events"):
                aws.client("dynamodb").batch_write_item(
                    RequestItems={
                        self._table: [{"DeleteRequest": {"Key": {"job_id": {"S": job_id}, "seq": {"N": s}}}} for s in keys]
                    }
                )

    def _newest_first(self, job_id: str, *, page: int, projection: bool = False) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "job_id = :job",
            "ExpressionAttributeValues": {":job": {"S": job_id}},
            "ConsistentRead": True,
            "ScanIndexForward": False,
            "Limit": page,
        }
        if projection:
            query["ProjectionExpression"] = "#seq, #seg, #n, #t"
            query["ExpressionAttributeNames"] = {"#seq": "seq", "#seg": "seg", "#n": "n", "#t": "type"}
        while True:
            with translating("read job log tail"):
                response = aws.client("dynamodb").query(**query)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _is_known_end(self, job_id: str, seq: int) -> bool:
        with self._lock:
            return self._known_ends.get(job_id) == seq

    def _remember_end(self, job_id: str, seq: int) -> None:
        with self._lock:
            self._known_ends[job_id] = seq
            self._known_ends.move_to_end(job_id)
            while len(self._known_ends) > self._MAX_KNOWN_ENDS:
                self._known_ends.popitem(last=False)

    def _item(self, pack: Pack, expires: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "job_id": {"S": pack.events[0].job_id},
            "seq": {"N": str(pack.events[0].seq)},
            "n": {"N": str(len(pack.events))},
            "type": {"S": pack.events[-1].type},  # the last event's: `tail` finds a terminal one by it
            "events": {"S": pack.body},
            "ttl": {"N": str(expires)},
        }
        if pack.segment is not None:
            item["seg"] = {"N": str(pack.segment)}
        return item

    @staticmethod
    def _events(item: dict[str, Any]) -> list[JobEvent]:
        job_id, first = item["job_id"]["S"], int(item["seq"]["N"])
        if "events" not in item:  # one event per item, as logs were stored before packing
            return [JobEvent(job_id=job_id, seq=first, type=item["type"]["S"], data=json.loads(item["data"]["S"]))]
        return [
            JobEvent(job_id=job_id, seq=first + i, type=kind, data=data)
            for i, (kind, data) in enumerate(json.loads(item["events"]["S"]))
        ]
