"""The project's own exceptions. Adapters raise these; `grabadora/http_errors.py` maps them to HTTP."""

from __future__ import annotations


class GrabadoraError(Exception):
    """Base of every error Grabadora raises on purpose.

    `detail` is for people and integrators (English); `code` is stable and machine-readable, so
    a client can say the same in its own language. Each kind has a default code; a raise site
    that means something more specific passes its own.
    """

    default_code = "error"

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code


class NotFound(GrabadoraError):
    """The thing does not exist, or belongs to someone else (never say which)."""

    default_code = "not_found"


class Conflict(GrabadoraError):
    """A conditional write lost: the thing exists already or changed underneath."""

    default_code = "conflict"


class InvalidInput(GrabadoraError):
    """The caller sent something that cannot be accepted."""

    default_code = "invalid_input"


class Unauthorized(GrabadoraError):
    """Missing, expired or forged credentials."""

    default_code = "unauthorized"


class PayloadTooLarge(GrabadoraError):
    """Over the configured size limit."""

    default_code = "too_large"


class UnsupportedMediaType(GrabadoraError):
    """Not a kind of file Grabadora can transcribe."""

    default_code = "unsupported_type"


class InvalidAudio(GrabadoraError):
    """The uploaded file cannot be decoded as audio, or is outside the limits."""

    default_code = "invalid_audio"


class ServiceUnavailable(GrabadoraError):
    """An AWS dependency did not answer; safe to retry."""

    default_code = "unavailable"


class QuotaExceeded(GrabadoraError):
    """The user's monthly allowance is used up."""

    default_code = "quota_exceeded"


class RateLimited(GrabadoraError):
    """Too many attempts (e.g. failed sign-ins); retry after `retry_after` seconds."""

    default_code = "rate_limited"

    def __init__(self, detail: str, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code)
        self.retry_after = max(int(retry_after), 1)
