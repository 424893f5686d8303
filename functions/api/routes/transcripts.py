"""The user's library: list, search, read, correct, download, delete and export transcripts."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.concurrency import run_in_threadpool

from functions.common.deps import ApiSettingsDep, CurrentUser, LibraryDep, PortsDep, SettingsDep
from functions.api.schemas import (
    ExportRecord, ExportRequest, JobOut, RetranscribeRequest, TranscriptDetail, TranscriptPage, TranscriptPatch,
)
from grabadora.errors import InvalidInput
from grabadora.models import SHA256_HEX, JobStatus
from grabadora.services import jobs, library, turns

router = APIRouter(prefix="/transcripts", tags=["transcripts"])

NOT_FOUND = {404: {"description": "No such transcript for this user"}}


@router.get("", response_model=TranscriptPage)
async def list_transcripts(
    user: CurrentUser,
    ports: LibraryDep,
    job_ports: PortsDep,
    settings: SettingsDep,
    search: Annotated[str | None, Query(max_length=200, description="words to find in title, tags and text (accents and case ignored)")] = None,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=library.MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor from the previous page")] = None,
    source_sha256: Annotated[
        str | None,
        Query(pattern=SHA256_HEX, description="only transcripts of the file with this SHA-256 (lowercase hex): was it sent before?"),
    ] = None,
) -> dict:
    """The caller's transcripts, newest first: `{items, next_cursor}`."""
    page = await run_in_threadpool(
        library.list_transcripts, ports, user.user_id, search=search, status=status_, limit=limit, cursor=cursor,
        source_sha256=source_sha256,
    )
    if any(item.status is JobStatus.QUEUED for item in page["items"]):
        await _nudge(job_ports, settings, user.user_id)
    return page


async def _nudge(job_ports: PortsDep, settings: SettingsDep, user_id: str) -> None:
    """A queued job is in view: take any fair turn a failure left untaken (grabadora/services/turns.py)."""
    if settings.jobs_queued_per_user:
        await run_in_threadpool(turns.nudge, job_ports.user_state, job_ports.transcripts, job_ports.queue, settings, user_id)


@router.get("/{transcript_id}", responses=NOT_FOUND, response_model=TranscriptDetail)
async def get_transcript(
    transcript_id: str,
    user: CurrentUser,
    ports: LibraryDep,
    job_ports: PortsDep,
    settings: SettingsDep,
    words: Annotated[bool, Query(description="include word timings in each segment")] = True,
) -> TranscriptDetail:
    """Metadata, segments (with corrections, once completed), a presigned audio URL and export history."""
    result = await run_in_threadpool(library.get_transcript, ports, user.user_id, transcript_id)
    if result.status is JobStatus.QUEUED:
        await _nudge(job_ports, settings, user.user_id)
    if not words:
        for segment in result.segments:
            segment.words = None
    return result


@router.patch(
    "/{transcript_id}",
    responses={**NOT_FOUND, 409: {"description": "Changed since the `version` (or `If-Match`) sent"}},
    response_model=TranscriptDetail,
)
async def update_transcript(
    transcript_id: str,
    body: TranscriptPatch,
    user: CurrentUser,
    ports: LibraryDep,
    if_match: Annotated[str | None, Header(max_length=40, description="the transcript's `version`, e.g. \"3\"")] = None,
) -> TranscriptDetail:
    """Change the title or tags, correct segment texts, or name speakers; downloads and exports use them."""
    expected = body.version
    if expected is None and if_match is not None:
        tag = if_match.strip().removeprefix("W/").strip('"')
        if not (tag.isascii() and tag.isdigit()) or len(tag) > 16:
            raise InvalidInput("If-Match: expected the transcript's version, e.g. \"3\"")
        expected = int(tag)
    return await run_in_threadpool(
        lambda: library.update_transcript(
            ports,
            user.user_id,
            transcript_id,
            title=body.title,
            tags=body.tags,
            segments={s.id: s.text for s in body.segments} if body.segments else None,
            speakers=body.speakers,
            expected_version=expected,
        )
    )


@router.get("/{transcript_id}/download", responses=NOT_FOUND)
async def download(
    transcript_id: str,
    user: CurrentUser,
    ports: LibraryDep,
    format: Annotated[Literal["txt", "md", "srt", "vtt", "json"], Query()] = "txt",
) -> Response:
    """The transcript as a file: plain text, Markdown, SubRip, WebVTT or JSON."""
    rendered = await run_in_threadpool(library.download, ports, user.user_id, transcript_id, format)
    disposition = f"attachment; filename=\"{rendered.filename}\"; filename*=UTF-8''{quote(rendered.filename)}"
    return Response(rendered.content, media_type=rendered.media_type, headers={"Content-Disposition": disposition})


@router.delete("/{transcript_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_transcript(
    transcript_id: str, user: CurrentUser, ports: LibraryDep, job_ports: PortsDep, settings: SettingsDep
) -> Response:
    """Remove the transcript, its live events, its audio and its stored document."""
    await run_in_threadpool(library.delete_transcript, ports, user.user_id, transcript_id)
    # Its hold goes, and a turn it had in the jobs queue passes to the user's next job.
    await run_in_threadpool(
        turns.job_deleted, job_ports.user_state, job_ports.transcripts, job_ports.queue, settings, user.user_id, transcript_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{transcript_id}/export", status_code=status.HTTP_202_ACCEPTED, responses=NOT_FOUND, response_model=ExportRecord
)
async def export(transcript_id: str, body: ExportRequest, user: CurrentUser, ports: LibraryDep, settings: ApiSettingsDep) -> dict:
    """Queue a delivery to Notion, Trello or the webhook; follow it in the transcript's `exports`."""
    options = body.model_dump(mode="json", exclude={"destination"}, exclude_none=True)
    return await run_in_threadpool(
        library.request_export, ports, settings, user.user_id, transcript_id, body.destination, options
    )


@router.post(
    "/{transcript_id}/retranscribe",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses={**NOT_FOUND, 409: {"description": "Still being transcribed, or its audio is gone"}},
)
async def retranscribe(
    transcript_id: str, body: RetranscribeRequest, user: CurrentUser, ports: PortsDep, settings: SettingsDep
) -> dict:
    """Transcribe the same audio again, as a new job, in the `language` given (e.g. when the
    detection was unsure: `language_unsure`). The old transcript stays until you delete it."""
    return await run_in_threadpool(jobs.retranscribe, ports, settings, user.user_id, transcript_id, body.language)
