"""SQS queues: sending jobs, and the worker's receive / extend / delete."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from botocore.exceptions import ClientError

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.settings import get_settings


# What an endpoint without fair queues answers to a MessageGroupId on a standard queue.
_REFUSED = {"InvalidParameterValue", "InvalidParameterCombination", "UnsupportedOperation", "InvalidParameterValueException"}


@dataclass(frozen=True)
class ReceivedMessage:
    body: str
    receipt_handle: str
    receive_count: int
    message_id: str


class JobQueue:
    def __init__(self, queue_name: str | None = None) -> None:
        self._name = queue_name or get_settings().jobs_queue
        self._groups = True  # whether the endpoint takes MessageGroupId on this queue

    @cached_property
    def url(self) -> str:
        with translating(f"find queue {self._name}"):
            return aws.client("sqs").get_queue_url(QueueName=self._name)["QueueUrl"]

    def send(self, body: str, group: str | None = None) -> str:
        """Enqueue one message; returns its id.

        `group` (the user's id for jobs) is the message group of an SQS fair queue: on a
        standard queue, SQS then serves groups with a backlog after the quiet ones
        (docs/DECISIONS.md, "Fair turns"). An endpoint that refuses the parameter on a standard
        queue (older emulators) gets the message without it, and is not asked again.
        """
        with translating("enqueue job"):
            if group is not None and self._groups:
                try:
                    return aws.client("sqs").send_message(
                        QueueUrl=self.url, MessageBody=body, MessageGroupId=group
                    )["MessageId"]
                except ClientError as e:
                    error = e.response.get("Error", {})
                    if error.get("Code") not in _REFUSED or "group" not in str(error.get("Message", "")).lower():
                        raise
                    self._groups = False  # no fair queues here: fairness rests on turns alone
            return aws.client("sqs").send_message(QueueUrl=self.url, MessageBody=body)["MessageId"]

    def receive(self, wait_seconds: int, visibility_timeout: int) -> ReceivedMessage | None:
        """Long-poll for one message."""
        with translating("receive job"):
            response = aws.client("sqs").receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=wait_seconds,
                VisibilityTimeout=visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
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
        with translating("extend job visibility"):
            aws.client("sqs").change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )

    def delete(self, receipt_handle: str) -> None:
        """Acknowledge a message: the job is done with."""
        with translating("acknowledge job"):
            aws.client("sqs").delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)

    def depth(self) -> int:
        """Messages waiting or in flight."""
        with translating("read queue depth"):
            attrs = aws.client("sqs").get_queue_attributes(
                QueueUrl=self.url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
