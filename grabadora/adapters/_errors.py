"""Turning botocore failures into the project's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError

from grabadora.errors import Conflict, NotFound, ServiceUnavailable

_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
_CONFLICT = {"ConditionalCheckFailedException", "TransactionCanceledException", "TransactionConflictException"}
_UNAVAILABLE = {"ServiceUnavailable", "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "InternalServerError", "SlowDown"}


def translate(error: Exception, what: str) -> Exception:
    """The domain exception for a botocore error raised while doing `what`; unknown ones pass through."""
    if isinstance(error, BotoConnectionError):
        return ServiceUnavailable(f"{what}: AWS endpoint unreachable")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in _NOT_FOUND:
            return NotFound(f"{what}: not found")
        if code in _CONFLICT:
            return Conflict(f"{what}: conflicting write")
        if code in _UNAVAILABLE:
            return ServiceUnavailable(f"{what}: {code}")
    return error


@contextmanager
def translating(what: str, conflict: str | None = None) -> Iterator[None]:
    """Raise the domain exception for a botocore failure inside the block (`Conflict` with the
    message `conflict`, when given); the one place adapters turn SDK errors into ours."""
    try:
        yield
    except (ClientError, BotoCoreError) as e:
        error = translate(e, what)
        if conflict is not None and isinstance(error, Conflict):
            raise Conflict(conflict) from e
        raise error from e
