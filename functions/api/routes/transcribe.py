"""Start a transcription, from an upload (JSON) or a small file sent along (multipart)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from functions.common.deps import CurrentUser, PortsDep, SettingsDep
from functions.api.schemas import JobOut, TranscribeRequest
from grabadora.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from grabadora.models import TranscribeOptions
from grabadora.services import jobs

router = APIRouter(tags=["transcribe"])

_OPTION_FIELDS = (
    "language", "profile", "title", "diarization", "word_timestamps", "task", "hotwords", "initial_prompt",
)

# The route reads its body itself (JSON or multipart), so its schema is declared by hand; the
# JSON model and the models it refers to are added to components.schemas by `create_app`.
_JSON_BODY = TranscribeRequest.model_json_schema(ref_template="#/components/schemas/{model}")
REQUEST_COMPONENTS: dict[str, dict] = {**_JSON_BODY.pop("$defs", {}), "TranscribeRequest": _JSON_BODY}

_OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TranscribeRequest"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "language": {"type": "string"},
                        "profile": {"type": "string", "enum": ["fast", "balanced", "precise"]},
                        "title": {"type": "string"},
                        "tags": {"type": "string", "description": "comma-separated, or repeat the field"},
                        "diarization": {"type": "boolean"},
                        "word_timestamps": {"type": "boolean"},
                        "task": {"type": "string", "enum": ["transcribe", "translate"]},
                        "hotwords": {"type": "string"},
                        "initial_prompt": {"type": "string"},
                    },
                }
            },
        },
    }
}


def _validation_error(error: ValidationError, where: str) -> RequestValidationError:
    def safe(e: dict) -> dict:
        # A body that is not UTF-8 comes back as bytes in `input`, which the 422's JSON cannot hold.
        if isinstance(e.get("input"), bytes):
            e = {**e, "input": e["input"][:200].decode("utf-8", "replace")}
        return {**e, "loc": (where, *e["loc"])}

    return RequestValidationError([safe(e) for e in error.errors(include_url=False, include_context=False)])


@router.post("/transcribe", status_code=202, response_model=JobOut, openapi_extra=_OPENAPI_BODY)
async def transcribe(request: Request, user: CurrentUser, ports: PortsDep, settings: SettingsDep) -> dict:
    """Queue a job; the answer's `stream_url` streams its words as they are recognised."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _transcribe_file(request, user.user_id, ports, settings)
    if content_type in ("application/json", ""):
        raw = await request.body()
        try:
            body = TranscribeRequest.model_validate_json(raw)
        except ValidationError as e:
            raise _validation_error(e, "body") from None
        options = TranscribeOptions(**body.model_dump(exclude={"upload_id", "source_sha256"}))
        return await run_in_threadpool(
            jobs.submit_upload, ports, settings, user.user_id, body.upload_id, options, source_sha256=body.source_sha256
        )
    raise UnsupportedMediaType("send application/json with an upload_id, or multipart/form-data with a file")


async def _transcribe_file(request: Request, user_id: str, ports: Any, settings: Any) -> dict:
    limit = settings.max_multipart_mb * 1024 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge(
            f"file: over the {settings.max_multipart_mb} MB limit for direct sends; use POST /uploads"
        )
    form = await request.form(max_files=1, max_fields=30, max_part_size=1024 * 1024)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("file: required (a multipart file field named 'file')")
    fields: dict[str, Any] = {k: form[k] for k in _OPTION_FIELDS if isinstance(form.get(k), str) and form[k] != ""}
    tags: list[str] = []
    for value in form.getlist("tags"):
        if isinstance(value, str):
            tags.extend(t for t in value.split(",") if t.strip())
    if tags:
        fields["tags"] = tags
    try:
        options = TranscribeOptions.model_validate(fields)
    except ValidationError as e:
        raise _validation_error(e, "body") from None
    body = await upload.read(limit + 1)
    return await run_in_threadpool(
        jobs.submit_file,
        ports,
        settings,
        user_id,
        upload.filename or "audio",
        upload.content_type or "",
        body,
        options,
    )

