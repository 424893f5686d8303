"""OpenAI-compatible speech-to-text: `POST /v1/audio/transcriptions` and `/v1/audio/translations`.

Existing tools that speak OpenAI's audio API work unchanged: point them at
`<grabadora>/v1` with an API key from `POST /me/api-keys`. A request becomes an ordinary job
(same queue, worker, library entry and quota); the answer waits for it, or with `stream=true`
streams OpenAI's `transcript.text.delta` / `transcript.text.done` events as words arrive.

It lives with the SSE relay because both hold a response open while the worker runs: on AWS
that is the stream function, reached through API Gateway's response streaming (up to 15
minutes, not the buffered 29 s), with a 4 MB file limit (docs/deploy.md, "/v1 on AWS").

Mapping of OpenAI's fields:
- `model`: `whisper-1` (or anything else) runs the deployment's model with the balanced
  profile; `grabadora-fast|balanced|precise` pick a profile.
- `prompt` → `initial_prompt`; `language`, `temperature` as they are (no `language`: detected among
  the account's languages, GET /me/languages; `language=any`: among all);
  `timestamp_granularities[]` = `word` adds `words` to `verbose_json`.
- `response_format`: json | text | srt | verbose_json | vtt. `verbose_json` adds `language_code`,
  `language_probability`, `language_source` (forced | detected | preferred_fallback) and
  `language_unsure`.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import StreamingResponse

from functions.common.deps import intake_settings, get_api_caller, get_api_keys, get_library_ports, get_ports, get_user_state, oauth2_scheme
from grabadora.services.event_log import follow_events, pacing
from grabadora.errors import GrabadoraError, InvalidInput, PayloadTooLarge
from grabadora.http_errors import STATUS_BY_ERROR
from grabadora.languages import language_name
from grabadora.models import JobEvent, QualityProfile, TranscribeOptions
from grabadora.services import jobs, library

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
MODELS = ("whisper-1", "grabadora-fast", "grabadora-balanced", "grabadora-precise")


class OpenAIError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.kind = status, message, param, kind

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": None}}
        return JSONResponse(body, status_code=self.status)


def _from_grabadora(error: GrabadoraError) -> OpenAIError:
    status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(error, t)), 500)
    kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}.get(
        status, "invalid_request_error" if status < 500 else "server_error"
    )
    return OpenAIError(status, error.detail, kind=kind)


@router.get("/models")
async def list_models(request: Request) -> Response:
    """The model names this endpoint accepts."""
    try:
        await _caller(request)
    except OpenAIError as e:
        return e.response()
    return JSONResponse(
        {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "grabadora"} for m in MODELS]}
    )


@router.post("/audio/transcriptions")
async def transcriptions(request: Request) -> Response:
    return await _handle(request, task="transcribe")


@router.post("/audio/translations")
async def translations(request: Request) -> Response:
    return await _handle(request, task="translate")


async def _caller(request: Request) -> str:
    token = await oauth2_scheme(request)
    try:
        claims = await to_thread.run_sync(lambda: get_api_caller(intake_settings(), get_api_keys(), get_user_state(), token))
    except GrabadoraError as e:
        raise OpenAIError(401, f"{e.detail}; send 'Authorization: Bearer <API key>'", kind="authentication_error") from None
    return claims.user_id


async def _handle(request: Request, task: str) -> Response:
    try:
        user_id = await _caller(request)
        form = await _form(request)
        options, fmt, words, stream = _options(form, task)
        upload = form["file"]
        body = await upload.read(intake_settings().openai_max_file_mb * 1024 * 1024 + 1)
        job = await to_thread.run_sync(
            lambda: jobs.submit_file(
                get_ports(), intake_settings(), user_id, upload.filename or "audio", upload.content_type or "",
                body, options, limit_mb=intake_settings().openai_max_file_mb,
            )
        )
    except OpenAIError as e:
        return e.response()
    except GrabadoraError as e:
        return _from_grabadora(e).response()
    if stream:
        return StreamingResponse(
            with_heartbeats(_stream(job["job_id"]), intake_settings().heartbeat_seconds),
            media_type="text/event-stream", headers={"Cache-Control": "no-cache"},
        )
    try:
        failure = await _wait(job["job_id"])
        if failure:
            raise OpenAIError(400, failure, param="file")
        return await to_thread.run_sync(lambda: _result(user_id, job["job_id"], fmt, words, task))
    except OpenAIError as e:
        return e.response()
    except GrabadoraError as e:
        return _from_grabadora(e).response()


async def _form(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise OpenAIError(415, "send multipart/form-data with a 'file' field, as OpenAI's API expects")
    limit = intake_settings().openai_max_file_mb * 1024 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _from_grabadora(PayloadTooLarge(f"file: over the {intake_settings().openai_max_file_mb} MB limit"))
    form = await request.form(max_files=1, max_fields=30, max_part_size=1024 * 1024)
    if not isinstance(form.get("file"), UploadFile):
        raise OpenAIError(400, "file: required (a multipart file field named 'file')", param="file")
    return form


def _text_field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _options(form: Any, task: str) -> tuple[TranscribeOptions, str, bool, bool]:
    fmt = _text_field(form, "response_format") or "json"
    if fmt not in RESPONSE_FORMATS:
        raise OpenAIError(400, f"response_format: must be one of {', '.join(RESPONSE_FORMATS)}", param="response_format")
    model = _text_field(form, "model")
    if model is None:
        raise OpenAIError(400, "model: required (for example 'whisper-1')", param="model")
    wanted = model.removeprefix("grabadora-")
    profile = wanted if wanted in {p.value for p in QualityProfile} else QualityProfile.BALANCED.value
    granularities = [g for key in ("timestamp_granularities[]", "timestamp_granularities") for g in form.getlist(key)]
    if set(granularities) - {"word", "segment"}:
        raise OpenAIError(400, "timestamp_granularities[]: 'word' and/or 'segment'", param="timestamp_granularities")
    stream = (_text_field(form, "stream") or "false").lower() in ("true", "1")
    if stream and fmt not in ("json", "text"):
        raise OpenAIError(400, "stream: only with response_format json or text", param="stream")
    fields: dict[str, Any] = {"profile": profile, "task": task, "word_timestamps": True}
    for source, target in (("language", "language"), ("prompt", "initial_prompt"), ("temperature", "temperature")):
        if (value := _text_field(form, source)) is not None:
            fields[target] = value
    if task == "translate":
        fields.pop("language", None)  # OpenAI's translations take no language; the speech's is detected
    try:
        options = TranscribeOptions.model_validate(fields)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        param = {"initial_prompt": "prompt"}.get(str(first["loc"][0]), str(first["loc"][0]))
        raise OpenAIError(400, f"{param}: {first['msg']}", param=param) from None
    return options, fmt, "word" in granularities, stream


async def _events(job_id: str):  # noqa: ANN202 - an async generator of JobEvent
    settings = intake_settings()
    ports = get_library_ports()
    async for event in follow_events(ports.events, job_id, -1, **pacing(settings)):
        yield event


async def _wait(job_id: str) -> str | None:
    """Until the job ends: None when completed, the reason when it failed."""

    async def until_end() -> str | None:
        async for event in _events(job_id):
            if event.type == "error":
                return event.data.get("detail") or "the job failed"
        return None

    try:
        return await asyncio.wait_for(until_end(), timeout=intake_settings().openai_wait_seconds)
    except TimeoutError:
        raise OpenAIError(
            504,
            f"still transcribing after {intake_settings().openai_wait_seconds} s; it will be in the library as {job_id} "
            "(with stream=true the answer waits for the words as they come)",
            kind="server_error",
        ) from None


async def _stream(job_id: str):  # noqa: ANN202 - an async generator of SSE lines
    """OpenAI's streaming transcription events: deltas, then `transcript.text.done`."""
    text: list[str] = []
    async for event in _events(job_id):
        if chunk := _sse_for(event, text):
            yield chunk
    yield "data: [DONE]\n\n"


HEARTBEAT = ": keep-alive\n\n"


async def with_heartbeats(chunks: AsyncIterator[str], every: float) -> AsyncIterator[str]:
    """`chunks`, with an SSE comment line whenever `every` seconds pass without one.

    A job waiting for a worker (minutes when the GPU service starts from zero) sends nothing,
    and proxies cut a silent response: CloudFront after its origin read timeout, API Gateway
    after its idle timeout. SSE clients, OpenAI's SDKs included, skip comment lines.
    """
    iterator = chunks.__aiter__()
    pending = asyncio.ensure_future(iterator.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield HEARTBEAT
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                return
            yield chunk
            pending = asyncio.ensure_future(iterator.__anext__())
    finally:
        pending.cancel()


def _sse_for(event: JobEvent, text: list[str]) -> str | None:
    if event.type == "delta":
        piece = event.data["text"] if text else event.data["text"].lstrip()
        text.append(piece)
        return _data({"type": "transcript.text.delta", "delta": piece, "logprobs": None})
    if event.type == "completed":
        seconds = math.ceil(event.data.get("duration") or 0)
        return _data(
            {"type": "transcript.text.done", "text": "".join(text).strip(), "logprobs": None,
             "usage": {"type": "duration", "seconds": seconds}}
        )
    if event.type == "error":
        return _data({"error": {"message": event.data.get("detail") or "the job failed", "type": "invalid_request_error"}})
    return None


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _result(user_id: str, job_id: str, fmt: str, words: bool, task: str) -> Response:
    ports = get_library_ports()
    transcript = library.get_transcript(ports, user_id, job_id)
    text = transcript.text or ""
    if fmt == "text":
        return PlainTextResponse(text + "\n")
    if fmt in ("srt", "vtt"):
        rendered = library.download(ports, user_id, job_id, fmt)
        return Response(rendered.content, media_type=rendered.media_type)
    usage = {"type": "duration", "seconds": math.ceil(transcript.duration or 0)}
    if fmt == "json":
        return JSONResponse({"text": text, "usage": usage})
    verbose: dict[str, Any] = {
        "task": task,
        "language": language_name(transcript.language),
        "duration": transcript.duration,
        "text": text,
        # Grabadora's additions (OpenAI clients ignore unknown fields): how the language was decided.
        "language_code": transcript.language,
        "language_probability": transcript.language_probability,
        "language_source": transcript.language_source,
        "language_unsure": transcript.language_unsure,
        "segments": [
            {
                "id": s.id, "seek": 0, "start": s.t0, "end": s.t1, "text": s.text, "tokens": [],
                "temperature": s.temperature or 0.0, "avg_logprob": s.avg_logprob or 0.0,
                "compression_ratio": s.compression_ratio or 0.0, "no_speech_prob": s.no_speech_prob or 0.0,
            }
            for s in transcript.segments
        ],
        "usage": usage,
    }
    if words:
        verbose["words"] = [
            {"word": w.text.strip(), "start": w.t0, "end": w.t1} for s in transcript.segments for w in s.words or []
        ]
    return JSONResponse(verbose)
