"""Live sessions: words while the user speaks (POST /live, its audio frames, stop)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from functions.common.deps import CurrentUser, LivePortsDep, SettingsDep
from functions.api.schemas import LiveCancelOut, LiveOut, LiveRequest, LiveStopOut, LiveStopRequest
from grabadora.errors import PayloadTooLarge, UnsupportedMediaType
from grabadora.services import live

router = APIRouter(tags=["live"])

_PCM_TYPES = ("audio/pcm", "audio/l16", "application/octet-stream")


@router.post(
    "/live",
    status_code=201,
    response_model=LiveOut,
    responses={
        409: {"description": "a request with this Idempotency-Key is still starting its session, or that session was discarded"},
        422: {"description": "this Idempotency-Key already started a session with other options"},
    },
)
def start_live(
    body: LiveRequest,
    user: CurrentUser,
    ports: LivePortsDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=255,
            description="any unique string (a UUID): a retry with the same key and body within 24 h "
            "answers the session the first request started instead of starting another",
        ),
    ] = None,
) -> dict:
    """Start a live session: send its audio to /live/{live_id}/audio and follow `stream_url`."""
    created, replayed = live.start_session_once(ports, settings, user.user_id, body, idempotency_key)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return created


@router.post(
    "/live/{live_id}/audio",
    status_code=204,
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"audio/pcm;rate=16000": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def live_audio(
    live_id: str,
    request: Request,
    user: CurrentUser,
    ports: LivePortsDep,
    settings: SettingsDep,
    seq: Annotated[int, Query(ge=0, le=10_000_000, description="the frame's number, from 0; a repeat is a no-op")],
) -> Response:
    """One frame of the session's audio: PCM16 little-endian mono samples at 16 kHz."""
    _check_pcm_type(request.headers.get("content-type", ""))
    too_large = PayloadTooLarge(f"body: over the {settings.live_frame_max_bytes}-byte frame limit; send shorter frames")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.live_frame_max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.live_frame_max_bytes:
            raise too_large
    await run_in_threadpool(live.put_frame, ports, settings, user.user_id, live_id, seq, bytes(body))
    return Response(status_code=204)


@router.post("/live/{live_id}/stop", status_code=202, response_model=LiveStopOut)
def stop_live(live_id: str, user: CurrentUser, ports: LivePortsDep, body: LiveStopRequest | None = None) -> dict:
    """End the session: the worker finishes the words, stores the recording and the transcript."""
    return live.stop_session(ports, user.user_id, live_id, body.frames if body else None)


@router.post("/live/{live_id}/cancel", response_model=LiveCancelOut)
def cancel_live(live_id: str, user: CurrentUser, ports: LivePortsDep, settings: SettingsDep) -> dict:
    """Discard the session: it ends at once and keeps no recording, transcript or event; the
    quota it held is released (the seconds already transcribed count). Safe to repeat."""
    return live.cancel_session(ports, settings, user.user_id, live_id)


def _check_pcm_type(header: str) -> None:
    media, _, params = header.partition(";")
    media = media.strip().lower()
    if media not in _PCM_TYPES:
        raise UnsupportedMediaType(
            f"content-type: '{media or 'none'}' is not raw audio; send 'audio/pcm;rate=16000' (PCM16 little-endian mono)"
        )
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "rate" and value.strip() != "16000":
            raise UnsupportedMediaType(f"content-type: rate={value.strip()} is not supported; resample to 16000 Hz")
        if name.lower() == "channels" and value.strip() != "1":
            raise UnsupportedMediaType("content-type: only mono audio (channels=1) is supported")
