"""The local stand-in for Lambda's SQS event source mapping in front of the exporter.

On AWS, Lambda polls the `exports` queue, invokes `functions.exporter.handler.lambda_handler`
with a batch of records, deletes the records the answer does not list in
`batchItemFailures` (`ReportBatchItemFailures`) and leaves the listed ones to reappear when
their visibility timeout ends. This loop does the same against the emulator, with the same
record shape, so the handler runs locally exactly as deployed. A short long-poll (1 s) keeps
`stop` prompt; a poll still returns the moment a message arrives.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.exporter.handler import lambda_handler
from grabadora.adapters.queues import ExportQueue, ReceivedMessage
from grabadora.resources import EXPORTER
from grabadora.settings import ExporterSettings, settings_as

logger = logging.getLogger(__name__)

FUNCTION_NAME = "grabadora-exporter"


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools and handlers read."""

    invoked_function_arn: str
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "local"
    deadline: float = field(default_factory=lambda: time.monotonic() + EXPORTER.timeout_seconds)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class ExporterRunner:
    """Polls the exports queue and invokes the exporter handler until `stop` is set."""

    def __init__(
        self, stop: threading.Event, *, settings: ExporterSettings | None = None, queue: ExportQueue | None = None,
        wait_seconds: int = 1, batch_size: int = EXPORTER.batch_size,
    ) -> None:
        self._stop = stop
        self.settings = settings if settings is not None else settings_as(ExporterSettings)
        self.queue = queue if queue is not None else ExportQueue(self.settings.exports_queue)
        self.wait_seconds = wait_seconds
        self.batch_size = batch_size

    def run(self) -> None:
        """Poll until `stop` is set; the batch in hand is finished first."""
        logger.info("exporter polling %s", self.queue.name)
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                # The loop must outlive any one failure; SQS redelivers whatever was in hand.
                logger.exception("exporter loop failed; retrying")
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch, invoke the handler, delete what succeeded; how many records came."""
        messages = self.queue.receive_batch(self.batch_size, self.wait_seconds)
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        account = self.queue.arn.split(":")[4]
        context = LocalLambdaContext(f"arn:aws:lambda:{self.settings.region}:{account}:function:{FUNCTION_NAME}")
        try:
            response = lambda_handler(event, context)
        except Exception:
            # As on AWS, a failed invocation leaves the whole batch to reappear after its visibility timeout.
            logger.exception("exporter invocation failed; %d message(s) will be retried", len(messages))
            return len(messages)
        failed = {failure["itemIdentifier"] for failure in (response or {}).get("batchItemFailures", [])}
        done = [m.receipt_handle for m in messages if m.message_id not in failed]
        for reason in self.queue.delete_batch(done):
            logger.warning("could not delete an exports message: %s", reason)
        return len(messages)

    def _record(self, message: ReceivedMessage) -> dict[str, Any]:
        """One SQS message as Lambda's event source mapping hands it to a function."""
        return {
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": dict(message.attributes),
            "messageAttributes": {name: _attribute(v) for name, v in message.message_attributes.items()},
            "md5OfBody": message.md5_of_body,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue.arn,
            "awsRegion": self.settings.region,
        }


def _attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute in the event's spelling (camelCase, binary as base64)."""
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode("ascii") if binary is not None else None,
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [base64.b64encode(b).decode("ascii") for b in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
