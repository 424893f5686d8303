"""SQS: the one module that speaks it. `SqsQueue` sends, receives, extends, deletes and counts;
`JobQueue` and `ExportQueue` name the queues it serves.

A queue is one `SqsQueue` instance; adding one is a `QueueSpec` in `grabadora/resources.py`
(which CDK and the emulator read), its name in the settings, and an instance where it is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

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
    # What `receive_batch` asks for besides (all of them): Lambda's SQS event carries them.
    attributes: Mapping[str, str] = field(default_factory=dict)
    message_attributes: Mapping[str, Any] = field(default_factory=dict)
    md5_of_body: str = ""


class SqsQueue:
    """One SQS queue, by name; SDK errors come out as the project's (`grabadora.errors`), saying
    what failed in terms of `noun` (an API client may read them in a 503's detail)."""

    noun = "message"

    def __init__(self, name: str) -> None:
        self.name = name
        self._groups = True  # whether the endpoint takes MessageGroupId on this queue

    @cached_property
    def url(self) -> str:
        with translating(f"find queue {self.name}"):
            return aws.client("sqs").get_queue_url(QueueName=self.name)["QueueUrl"]

    @cached_property
    def arn(self) -> str:
        with translating(f"find queue {self.name}"):
            attributes = aws.client("sqs").get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def send(self, body: str, group: str | None = None) -> str:
        """Enqueue one message; returns its id.

        `group` (the user's id for jobs) is the message group of an SQS fair queue: on a
        standard queue, SQS then serves groups with a backlog after the quiet ones
        (docs/DECISIONS.md, "Fair turns"). An endpoint that refuses the parameter on a standard
        queue (older emulators) gets the message without it, and is not asked again.
        """
        with translating(f"enqueue {self.noun}"):
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
        """Long-poll for one message, hidden from others for `visibility_timeout` seconds."""
        with translating(f"receive {self.noun}"):
            response = aws.client("sqs").receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=wait_seconds,
                VisibilityTimeout=visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        messages = [_received(m) for m in response.get("Messages", [])]
        return messages[0] if messages else None

    def receive_batch(self, max_messages: int, wait_seconds: int) -> list[ReceivedMessage]:
        """Long-poll for up to `max_messages`, with every system and message attribute (the
        queue's own visibility timeout applies)."""
        with translating(f"receive {self.noun}"):
            response = aws.client("sqs").receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        return [_received(m) for m in response.get("Messages", [])]

    def extend(self, receipt_handle: str, seconds: int) -> None:
        """Set a received message's visibility timeout: keep it hidden while it is worked on, or
        make it reappear after a back-off."""
        with translating(f"extend {self.noun} visibility"):
            aws.client("sqs").change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )

    def delete(self, receipt_handle: str) -> None:
        """Acknowledge a message: it is done with."""
        with translating(f"acknowledge {self.noun}"):
            aws.client("sqs").delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)

    def delete_batch(self, receipt_handles: Sequence[str]) -> list[str]:
        """Acknowledge several messages (at most 10) in one request; why each that was not, failed."""
        if not receipt_handles:
            return []
        with translating(f"acknowledge {self.noun}"):
            result = aws.client("sqs").delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(n), "ReceiptHandle": handle} for n, handle in enumerate(receipt_handles)],
            )
        return [str(failure.get("Message", failure.get("Code"))) for failure in result.get("Failed", [])]

    def depth(self) -> int:
        """Messages waiting or in flight."""
        with translating("read queue depth"):
            attrs = aws.client("sqs").get_queue_attributes(
                QueueUrl=self.url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


class JobQueue(SqsQueue):
    """A queue the worker takes work from: `jobs` (files, the default), `live` (sessions), or
    either's dead-letter queue."""

    noun = "job"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or get_settings().jobs_queue)


class ExportQueue(SqsQueue):
    """The exporter's queue: one message per delivery (`grabadora.models.ExportMessage`)."""

    noun = "export"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name or get_settings().exports_queue)


def _received(message: dict[str, Any]) -> ReceivedMessage:
    attributes = message.get("Attributes", {})
    return ReceivedMessage(
        body=message["Body"],
        receipt_handle=message["ReceiptHandle"],
        receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
        message_id=message["MessageId"],
        attributes=attributes,
        message_attributes=message.get("MessageAttributes", {}),
        md5_of_body=message.get("MD5OfBody", ""),
    )
