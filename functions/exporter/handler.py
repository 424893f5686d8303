"""SQS → Lambda entry point of the exporter: one delivery per record, failures retried by SQS.

The event source mapping must enable `ReportBatchItemFailures`: records listed in
`batchItemFailures` come back; the others are deleted. A record that failed transiently
first gets its visibility timeout set to the back-off delay, so it comes back then rather
than after the queue's 60 s; its `ApproximateReceiveCount` is the attempt number. A body
that is not an `ExportMessage` fails every time and ends in the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from grabadora.adapters.queues import ExportQueue
from grabadora.models import ExportMessage
from grabadora.services.exports import RetryLater, deliver_export
from grabadora.settings import ExporterSettings, serve_as

logger = Logger(service="grabadora-exporter")
serve_as(ExporterSettings)  # read from this function's environment on first use


def record_handler(record: SQSRecord) -> str:
    try:
        message = ExportMessage.model_validate_json(record.body)
    except ValidationError:
        logger.error("unreadable exports message", message_id=record.message_id)
        raise
    attempt = int(record.attributes.approximate_receive_count)
    context = {"export_id": message.export_id, "destination": message.destination.value, "attempt": attempt}
    try:
        outcome = deliver_export(message, attempt)
    except RetryLater as retry:
        ExportQueue().extend(record.receipt_handle, retry.delay_seconds)
        logger.info("export will be retried", **context, delay_seconds=retry.delay_seconds, reason=retry.detail)
        raise
    logger.info("export handled", **context, outcome=outcome.value)
    return outcome.value


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's state. Every failure is reported, even
    # when the whole batch failed, rather than raised: the same retries, and no function error.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
