"""The SSE relay: `GET /transcribe/{job_id}` streams a job's events, resumable by Last-Event-ID.

On AWS it runs under uvicorn inside the Lambda Web Adapter with response streaming, because
Mangum buffers whole responses. Locally the dev server mounts the same router.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from functions.common.deps import authenticate_token, get_user_state, oauth2_scheme
from functions.common import openai_routes
from functions.stream.relay import follow, pacing
from grabadora import metrics
from grabadora.adapters.stream_slots import StreamSlots
from grabadora.adapters.events_table import EventsTable
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.errors import InvalidInput, NotFound, Unauthorized
from grabadora.models import TERMINAL_EVENTS
from grabadora.http_errors import install_error_handlers
from grabadora.settings import RelaySettings, serve_as, settings_as

router = APIRouter(tags=["stream"])


def relay_settings() -> RelaySettings:
    return settings_as(RelaySettings)


RelaySettingsDep = Annotated[RelaySettings, Depends(relay_settings)]


@lru_cache
def _slots() -> StreamSlots:
    return StreamSlots(settings_as(RelaySettings))


@lru_cache
def _tables() -> tuple[TranscriptsTable, EventsTable]:
    return TranscriptsTable(), EventsTable()


async def bounded(
    events: EventsTable, job_id: str, after_seq: int, settings: RelaySettings, release: Callable[[], None] | None = None
) -> AsyncIterator[ServerSentEvent]:
    """The job's events for at most `stream_max_seconds`; a stream cut short says when to resume.

    Lambda ends an invocation at 15 minutes, and one cut there counts as an error. So the relay
    ends the response itself, cleanly, before that: a last message carries `retry: <ms>` and no
    event, and the client reconnects with `Last-Event-ID` (the id of the last event it got),
    from where the replay continues, so no event is lost or repeated. When the client goes away
    first, sse-starlette cancels this generator and the poll loop with it.
    """
    ended = False
    try:
        async for message in follow(events, job_id, after_seq, **pacing(settings), max_seconds=settings.stream_max_seconds or None):
            ended = message.event in TERMINAL_EVENTS
            yield message
        if not ended:
            yield ServerSentEvent(retry=settings.stream_retry_ms, comment="stream time limit: reconnect with Last-Event-ID")
    finally:
        if release is not None:
            release()


def _resume_point(header: str | None, query: int | None) -> int:
    if header is not None and header.strip():
        try:
            value = int(header)
        except ValueError:
            raise InvalidInput("Last-Event-ID: must be the numeric id of an event") from None
        if value < -1:
            raise InvalidInput("Last-Event-ID: must be the numeric id of an event (-1 for the start)")
        return value
    return query if query is not None else -1


@router.get(
    "/transcribe/{job_id}",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "delta, progress, completed, error events"}},
)
async def stream_job(
    job_id: str,
    settings: RelaySettingsDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    token: Annotated[str | None, Query(description="the job-scoped token from stream_url")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=-1, description="resume after this event id (for clients that cannot set Last-Event-ID)")] = None,
) -> EventSourceResponse:
    """Stream the job's events: replay what exists, then follow live until it ends."""
    credential = token or bearer
    if not credential:
        raise Unauthorized("not signed in: use the stream_url token or 'Authorization: Bearer <token>'")
    claims = await to_thread.run_sync(authenticate_token, settings, get_user_state(), credential)
    if claims.job_id is not None and claims.job_id != job_id:
        raise NotFound("job not found")
    transcripts, events = _tables()
    await to_thread.run_sync(transcripts.get, claims.user_id, job_id)
    start_after = _resume_point(last_event_id, after)
    last = await to_thread.run_sync(events.last, job_id)
    if start_after > (last.seq if last is not None else -1):
        raise InvalidInput(
            f"Last-Event-ID: {start_after} is past the job's last event ({last.seq if last else 'none yet'})"
        )
    if last is not None and last.type in TERMINAL_EVENTS and start_after >= last.seq:
        # The client saw the end already: give it the terminal event again and close, rather
        # than follow a log that will never grow (reconnecting EventSources would pile up).
        start_after = last.seq - 1
    # Each open stream holds a relay (a Lambda on AWS): at most streams_per_user at once (429).
    slots = _slots()
    lease = await to_thread.run_sync(slots.acquire, claims.user_id)
    release = None if lease is None else (lambda: slots.release(claims.user_id, lease))
    return EventSourceResponse(
        metrics.relayed(bounded(events, job_id, start_after, settings, release)),
        ping=settings.heartbeat_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def served_app() -> FastAPI:
    """The relay as a process of its own serves it (run.sh on Lambda, docker compose): its
    settings are `RelaySettings`, read from its environment."""
    serve_as(RelaySettings)
    return create_app()


def create_app() -> FastAPI:
    """The relay alone: its routes and `/v1`, reading no setting until a request needs one."""
    app = FastAPI(title="Grabadora stream relay", version="0.1.0")
    install_error_handlers(app)
    app.include_router(router)
    # The OpenAI-compatible routes also hold a response open while the worker runs; on AWS they
    # are served here, through API Gateway's response streaming (up to 15 minutes), not through
    # the Function URL, which takes only CloudFront-signed GETs (docs/deploy.md, "/v1 on AWS").
    app.include_router(openai_routes.router)
    return app
