"""Error answers carry a stable `code` beside the unchanged `detail`, so a client can translate them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from grabadora import errors
from grabadora.http_errors import install_error_handlers, validation_code
from grabadora.services.accounts import check_password_strength
from grabadora.services.jobs import check_media_type, check_size


class _Signup(BaseModel):
    email: str
    password: str = Field(min_length=8)


def _app(exc: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    @app.post("/signup")
    def signup(body: _Signup) -> None:
        return None

    return TestClient(app)


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.NotFound("transcript not found", code="transcript_not_found"), 404, "transcript_not_found"),
        (errors.NotFound("upload not found"), 404, "not_found"),
        (errors.InvalidInput("size: the file is empty", code="file_empty"), 422, "file_empty"),
        (errors.QuotaExceeded("monthly quota used up"), 429, "quota_exceeded"),
        (errors.RateLimited("too many failed sign-ins", 30), 429, "rate_limited"),
        (errors.UnsupportedMediaType("content_type: 'text/plain' is not audio or video"), 415, "unsupported_type"),
        (errors.Unauthorized("token expired; sign in again", code="session_expired"), 401, "session_expired"),
    ],
)
def test_a_grabadora_error_answers_with_its_detail_and_a_code(exc, status, code) -> None:
    # Given a route that raises a project error / When it is called
    response = _app(exc).get("/boom")
    # Then the status, the unchanged detail and the stable code
    assert response.status_code == status
    assert response.json() == {"detail": exc.detail, "code": code}


def test_rate_limited_keeps_retry_after_and_a_specific_code() -> None:
    response = _app(errors.RateLimited("too many", 12, code="signin_rate_limited")).get("/boom")
    assert response.headers["Retry-After"] == "12" and response.json()["code"] == "signin_rate_limited"


def test_validation_errors_keep_fastapis_detail_and_gain_a_code_per_field_and_kind() -> None:
    response = _app(RuntimeError()).post("/signup", json={"email": "a@b.c", "password": "corta"})
    body = response.json()
    assert response.status_code == 422
    assert isinstance(body["detail"], list) and body["detail"][0]["loc"] == ["body", "password"]
    assert body["code"] == "invalid.password.string_too_short"


def test_validation_code_of_a_missing_field_and_of_nothing() -> None:
    assert validation_code([{"loc": ("body", "file"), "type": "missing"}]) == "invalid.file.missing"
    assert validation_code([]) == "invalid_input"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: check_password_strength("12345678"), "password_weak"),
        (lambda: check_password_strength("corta"), "password_short"),
        (lambda: check_size(0, 10), "file_empty"),
        (lambda: check_size(11 * 1024 * 1024, 10), "file_too_large"),
        (lambda: check_media_type("notas.txt", "text/plain"), "unsupported_type"),
    ],
)
def test_the_services_raise_the_codes_the_web_app_translates(call, code) -> None:
    with pytest.raises(errors.GrabadoraError) as caught:
        call()
    assert caught.value.code == code
