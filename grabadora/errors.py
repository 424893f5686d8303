"""The project's own exceptions. Adapters raise these; `grabadora/http_errors.py` maps them to HTTP."""

from __future__ import annotations


class GrabadoraError(Exception):
    """Base of every error Grabadora raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(GrabadoraError):
    """The thing does not exist, or belongs to someone else (never say which)."""


class Conflict(GrabadoraError):
    """A conditional write lost: the thing exists already or changed underneath."""


class InvalidInput(GrabadoraError):
    """The caller sent something that cannot be accepted."""


class Unauthorized(GrabadoraError):
    """Missing, expired or forged credentials."""


class PayloadTooLarge(GrabadoraError):
    """Over the configured size limit."""


class UnsupportedMediaType(GrabadoraError):
    """Not a kind of file Grabadora can transcribe."""


class InvalidAudio(GrabadoraError):
    """The uploaded file cannot be decoded as audio, or is outside the limits."""


class ServiceUnavailable(GrabadoraError):
    """An AWS dependency did not answer; safe to retry."""


class QuotaExceeded(GrabadoraError):
    """The user's monthly allowance is used up."""


class RateLimited(GrabadoraError):
    """Too many attempts (e.g. failed sign-ins); retry after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(int(retry_after), 1)
