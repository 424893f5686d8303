"""The `live-frames` table: a live session's audio frames (PK live_id, SK seq, PCM16 bytes)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from grabadora import aws
from grabadora.adapters._errors import translate, translating
from grabadora.errors import Conflict
from grabadora.settings import get_settings

# DynamoDB's BatchWriteItem limit.
_BATCH = 25


@dataclass(frozen=True)
class Frame:
    seq: int
    pcm: bytes  # PCM16 little-endian, mono, 16 kHz


class LiveFramesTable:
    def __init__(self, table_name: str | None = None) -> None:
        settings = get_settings()
        self._table = table_name or settings.live_frames_table
        self._ttl_seconds = settings.live_frames_ttl_hours * 3600

    def put(self, live_id: str, seq: int, pcm: bytes) -> bool:
        """Store one frame unless that seq is already stored; whether this call stored it.

        Clients retry frames whose answer they missed, so a repeated seq is a no-op, not an
        error; the first bytes stored for a seq are the ones kept.
        """
        try:
            aws.client("dynamodb").put_item(
                TableName=self._table,
                Item={
                    "live_id": {"S": live_id},
                    "seq": {"N": str(seq)},
                    "pcm": {"B": pcm},
                    "ttl": {"N": str(int(time.time()) + self._ttl_seconds)},
                },
                ConditionExpression="attribute_not_exists(seq)",
            )
        except (ClientError, BotoCoreError) as e:
            error = translate(e, "store live audio")
            if isinstance(error, Conflict):
                return False
            raise error from e
        return True

    def read(self, live_id: str, after_seq: int = -1, limit: int = 200) -> list[Frame]:
        """Frames with seq > after_seq, in seq order (strongly consistent; gaps possible)."""
        with translating("read live audio"):
            response = aws.client("dynamodb").query(
                TableName=self._table,
                KeyConditionExpression="live_id = :id AND seq > :after",
                ExpressionAttributeValues={":id": {"S": live_id}, ":after": {"N": str(after_seq)}},
                ProjectionExpression="seq, pcm",
                ConsistentRead=True,
                Limit=limit,
            )
        return [Frame(int(i["seq"]["N"]), bytes(i["pcm"]["B"])) for i in response.get("Items", [])]

    def delete_session(self, live_id: str) -> None:
        """Remove every frame of a session (its recording is stored whole by then)."""
        after = -1
        while True:
            with translating("list live audio"):
                response = aws.client("dynamodb").query(
                    TableName=self._table,
                    KeyConditionExpression="live_id = :id AND seq > :after",
                    ExpressionAttributeValues={":id": {"S": live_id}, ":after": {"N": str(after)}},
                    ProjectionExpression="seq",
                    Limit=_BATCH,
                )
            keys = [int(i["seq"]["N"]) for i in response.get("Items", [])]
            if not keys:
                return
            requests = [{"DeleteRequest": {"Key": {"live_id": {"S": live_id}, "seq": {"N": str(s)}}}} for s in keys]
            while requests:
                with translating("delete live audio"):
                    unprocessed = aws.client("dynamodb").batch_write_item(RequestItems={self._table: requests})
                requests = unprocessed.get("UnprocessedItems", {}).get(self._table, [])
            after = keys[-1]
