"""IoT Core topics: a push fan-out of job events for integrators (MQTT subscribers)."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError

from grabadora import aws
from grabadora.models import JobEvent

logger = logging.getLogger(__name__)


def job_topic(user_id: str, job_id: str) -> str:
    return f"grabadora/{user_id}/jobs/{job_id}/events"


class EventPublisher:
    """Publishes events off the worker's hot path.

    DynamoDB is the durable log; IoT is best effort, so a publish failure is logged, never
    fatal, and publishing runs on one background thread to keep order and not slow decoding.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="iot-publish")

    def publish(self, user_id: str, events: list[JobEvent]) -> None:
        if events:
            self._executor.submit(self._publish, user_id, events)

    def flush(self) -> None:
        """Wait for what was submitted so far."""
        self._executor.submit(lambda: None).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    @staticmethod
    def _publish(user_id: str, events: list[JobEvent]) -> None:
        iot = aws.client("iot-data")
        for event in events:
            try:
                iot.publish(
                    topic=job_topic(user_id, event.job_id),
                    qos=1,
                    payload=json.dumps(
                        {"id": event.seq, "event": event.type, "data": event.data}, ensure_ascii=False
                    ).encode("utf-8"),
                )
            except (ClientError, BotoCoreError):
                logger.warning("IoT publish failed", extra={"job_id": event.job_id, "seq": event.seq})
