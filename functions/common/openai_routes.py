"""OpenAI-compatible speech-to-text: `POST /v1/audio/transcriptions` and `/v1/audio/translations`.

Existing tools that speak OpenAI's audio API work unchanged: point them at
`<grabadora>/v1` with an API key from `POST /me/api-keys`. A request becomes an ordinary job
(same queue, worker, library entry and quota); the answer waits for it, or with `stream=true`
streams OpenAI's `transcript.text.delta` / `transcript.text.done` events as words arrive.

This is the router: credentials, the multipart body, holding the response open while the job
runs. What OpenAI's fields mean and what its answers look like is the service's
(`grabadora/services/openai_compat.py`).

It lives with the SSE relay because both hold a response open while the worker runs: on AWS
that is the stream function, reached through API Gateway's response streaming (up to 15
minutes, not the buffered 29 s), with a 4 MB file limit (docs/deploy.md, "/v1 on AWS").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.responses import StreamingResponse

from functions.common.deps import intake_settings, get_api_caller, get_api_keys, get_library_ports, get_ports, get_user_state, oauth2_scheme
from grabadora.errors import GrabadoraError, PayloadTooLarge
from grabadora.models import JobEvent
from grabadora.services import jobs
from grabadora.services.event_log import follow_events, pacing
from grabadora.services.openai_compat import DONE, OpenAIError, answer, model_list, read_request, sse_for

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def _error(error: OpenAIError | GrabadoraError) -> JSONResponse:
    if isinstance(error, GrabadoraError):
        error = OpenAIError.from_grabadora(error)
    return JSONResponse(error.body(), status_code=error.status)


@router.get("/models")
async def list_models(request: Request) -> Response:
    """The model names this endpoint accepts."""
    try:
        await _caller(request)
    except OpenAIError as e:
        return _error(e)
    return JSONResponse(model_list())


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
    settings = intake_settings()
    try:
        user_id = await _caller(request)
        form = await _form(request)
        wanted = read_request(form, task)
        upload = form["file"]
        body = await upload.read(settings.openai_max_file_mb * 1024 * 1024 + 1)
        job = await to_thread.run_sync(
            lambda: jobs.submit_file(
                get_ports(), settings, user_id, upload.filename or "audio", upload.content_type or "",
                body, wanted.options, limit_mb=settings.openai_max_file_mb,
            )
        )
    except (OpenAIError, GrabadoraError) as e:
        return _error(e)
    if wanted.stream:
        return StreamingResponse(
            with_heartbeats(_stream(job["job_id"]), settings.heartbeat_seconds),
            media_type="text/event-stream", headers={"Cache-Control": "no-cache"},
        )
    try:
        failure = await _wait(job["job_id"])
        if failure:
            raise OpenAIError(400, failure, param="file")
        result = await to_thread.run_sync(lambda: answer(get_library_ports(), user_id, job["job_id"], wanted, task))
    except (OpenAIError, GrabadoraError) as e:
        return _error(e)
    if isinstance(result.body, dict):
        return JSONResponse(result.body)
    return Response(result.body, media_type=result.media_type)


async def _form(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise OpenAIError(415, "send multipart/form-data with a 'file' field, as OpenAI's API expects")
    limit_mb = intake_settings().openai_max_file_mb
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_mb * 1024 * 1024 + 64 * 1024:
        raise OpenAIError.from_grabadora(PayloadTooLarge(f"file: over the {limit_mb} MB limit"))
    form = await request.form(max_files=1, max_fields=30, max_part_size=1024 * 1024)
    if not isinstance(form.get("file"), UploadFile):
        raise OpenAIError(400, "file: required (a multipart file field named 'file')", param="file")
    return form


async def _events(job_id: str) -> AsyncIterator[JobEvent]:
    async for event in follow_events(get_library_ports().events, job_id, -1, **pacing(intake_settings())):
        yield event


async def _wait(job_id: str) -> str | None:
    """Until the job ends: None when completed, the reason when it failed."""

    async def until_end() -> str | None:
        async for event in _events(job_id):
            if event.type == "error":
                return event.data.get("detail") or "the job failed"
        return None

    seconds = intake_settings().openai_wait_seconds
    try:
        return await asyncio.wait_for(until_end(), timeout=seconds)
    except TimeoutError:
        raise OpenAIError(
            504,
            f"still transcribing after {seconds} s; it will be in the library as {job_id} "
            "(with stream=true the answer waits for the words as they come)",
            kind="server_error",
        ) from None


async def _stream(job_id: str) -> AsyncIterator[str]:
    """OpenAI's streaming transcription events: deltas, then `transcript.text.done`."""
    text: list[str] = []
    async for event in _events(job_id):
        if chunk := sse_for(event, text):
            yield chunk
    yield DONE


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
