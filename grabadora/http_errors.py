"""The one place where the project's exceptions become HTTP statuses (API and relay alike)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from grabadora import errors
from grabadora.observability import logger

STATUS_BY_ERROR: dict[type[errors.GrabadoraError], int] = {
    errors.InvalidInput: 422,
    errors.Unauthorized: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.InvalidAudio: 422,
    errors.QuotaExceeded: 429,
    errors.RateLimited: 429,
    errors.ServiceUnavailable: 503,
}


def install_error_handlers(app: FastAPI) -> None:
    """Map every `GrabadoraError` to `{"detail": ...}` with its status."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.GrabadoraError)
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 500)
        if status >= 500:
            logger.warning("dependency failure", extra={"path": request.url.path, "detail": exc.detail})
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, errors.RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"detail": exc.detail}, status_code=status, headers=headers)

    app.add_exception_handler(errors.GrabadoraError, handle)
