"""SQS queues: sending jobs, and the worker's receive / extend / delete."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from botocore.exceptions import BotoCoreError, ClientError

from grabadora import aws
from grabadora.adapters._errors import translate
from grabadora.settings import get_settings


@dataclass(frozen=True)
class ReceivedMessage:
    body: str
    receipt_handle: str
    receive_count: int
    message_id: str


class JobQueue:
    def __init__(self, queue_name: str | None = None) -> None:
        self._name = queue_name or get_settings().jobs_queue

    @cached_property
    def url(self) -> str:
        try:
            return aws.client("sqs").get_queue_url(QueueName=self._name)["QueueUrl"]
        except (ClientError, BotoCoreError) as e:
            raise translate(e, f"find queue {self._name}") from e

    def send(self, body: str) -> str:
        """Enqueue one message; returns its id."""
        try:
            return aws.client("sqs").send_message(QueueUrl=self.url, MessageBody=body)["MessageId"]
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "enqueue job") from e

    def receive(self, wait_seconds: int, visibility_timeout: int) -> ReceivedMessage | None:
        """Long-poll for one message."""
        try:
            response = aws.client("sqs").receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=wait_seconds,
                VisibilityTimeout=visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "receive job") from e
        messages = response.get("Messages", [])
        if not messages:
            return None
        message = messages[0]
        return ReceivedMessage(
            body=message["Body"],
            receipt_handle=message["ReceiptHandle"],
            receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            message_id=message["MessageId"],
        )

    def extend(self, receipt_handle: str, seconds: int) -> None:
        """Keep a message invisible while its job runs."""
        try:
            aws.client("sqs").change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "extend job visibility") from e

    def delete(self, receipt_handle: str) -> None:
        """Acknowledge a message: the job is done with."""
        try:
            aws.client("sqs").delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "acknowledge job") from e

    def depth(self) -> int:
        """Messages waiting or in flight."""
        try:
            attrs = aws.client("sqs").get_queue_attributes(
                QueueUrl=self.url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
        except (ClientError, BotoCoreError) as e:
            raise translate(e, "read queue depth") from e
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
