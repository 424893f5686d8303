"""The one place where the project's exceptions become HTTP statuses (API and relay alike)."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
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


def validation_code(errors_: list[dict]) -> str:
    """A stable code for a request that failed validation: `invalid.<field>.<kind>` of the first error."""
    if not errors_:
        return "invalid_input"
    first = errors_[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header", "form")]
    field = loc[-1] if loc else "request"
    return f"invalid.{field}.{first.get('type', 'value_error')}"


MAX_ECHO = 100


def short_input(value: object) -> object:
    """What a 422 may echo of the input: at most `MAX_ECHO` characters of it (a 50 MB body
    sent back would double the cost of every bad request, and reflect whatever it held)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= MAX_ECHO:
        return value
    return text[:MAX_ECHO] + f"… ({len(text)} characters)"


def install_error_handlers(app: FastAPI) -> None:
    """Map every `GrabadoraError` to `{"detail": ..., "code": ...}` with its status.

    Validation errors keep FastAPI's `detail` list and gain a `code` (`validation_code`).
    """

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.GrabadoraError)
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 500)
        if status >= 500:
            logger.warning("dependency failure", extra={"path": request.url.path, "detail": exc.detail})
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, errors.RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=status, headers=headers)

    async def handle_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        response = await request_validation_exception_handler(request, exc)
        body = json.loads(bytes(response.body))
        for error in body.get("detail", []) if isinstance(body.get("detail"), list) else []:
            if isinstance(error, dict) and "input" in error:
                error["input"] = short_input(error["input"])
        body["code"] = validation_code(list(exc.errors()))
        return JSONResponse(body, status_code=response.status_code)

    app.add_exception_handler(errors.GrabadoraError, handle)
    app.add_exception_handler(RequestValidationError, handle_validation)
