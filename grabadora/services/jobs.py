"""Uploads and transcription jobs: presign, register, enqueue."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import PurePath

from grabadora import auth, metrics
from grabadora.audio_probe import probe_bytes, probe_duration
from grabadora.adapters.queues import JobQueue
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import UserStateTable, month_of
from grabadora.adapters.worker_service import NoWorkerNudge, WorkerNudge
from grabadora.errors import (
    Conflict,
    GrabadoraError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from grabadora.formats import search_text
from grabadora.ids import new_id
from grabadora.models import DEFAULT_LANGUAGES, JobMessage, JobStatus, TranscribeOptions, TranscriptItem, utc_now
from grabadora.services import quota, turns
from grabadora.settings import IntakeSettings, UsageSettings

logger = logging.getLogger(__name__)

# Extensions accepted when a browser or client labels the file application/octet-stream.
MEDIA_EXTENSIONS = frozenset(
    ".aac .aif .aiff .amr .flac .m4a .mka .mkv .mov .mp3 .mp4 .mpeg .mpga .oga .ogg .opus .wav .weba .webm .wma".split()
)


@dataclass(frozen=True)
class Ports:
    """The adapters a job needs; built once per process by the caller."""

    store: ObjectStore
    transcripts: TranscriptsTable
    queue: JobQueue
    user_state: UserStateTable
    # Starts the GPU worker service when a job arrives while it is at zero tasks (AWS only).
    worker: WorkerNudge = field(default_factory=NoWorkerNudge)


def nudge_worker(worker: WorkerNudge) -> None:
    """Start the worker if it sleeps. A failed nudge costs only the scaling alarm's delay, never
    the job already queued, so any failure is logged and swallowed."""
    try:
        worker.nudge()
    except Exception:  # noqa: BLE001 - see the docstring: the job is queued either way
        logger.warning("worker nudge failed; the queue-depth alarm will start the worker", exc_info=True)


def safe_filename(filename: str) -> str:
    """A file name safe to put in an S3 key: no path, no control characters, bounded length."""
    name = PurePath(filename.replace("\\", "/")).name
    name = unicodedata.normalize("NFKC", name)
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .")
    if not name:
        raise InvalidInput("filename: must name a file")
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 8:
        return f"{stem[:120]}.{ext}"
    return name[:128]


def check_media_type(filename: str, content_type: str) -> str:
    """The content type to store; `UnsupportedMediaType` for anything that is not audio or video."""
    content_type = (content_type or "").split(";")[0].strip().lower()
    ext = PurePath(filename).suffix.lower()
    if content_type.startswith(("audio/", "video/")) or content_type == "application/ogg":
        return content_type
    if content_type in ("", "application/octet-stream") and ext in MEDIA_EXTENSIONS:
        return mimetypes.guess_type(filename)[0] or "application/octet-stream"
    raise UnsupportedMediaType(
        f"content_type: '{content_type or 'none'}' is not audio or video; send an audio or video file"
    )


def check_size(size: int, limit_mb: int) -> None:
    if size <= 0:
        raise InvalidInput("size: the file is empty", code="file_empty")
    if size > limit_mb * 1024 * 1024:
        raise PayloadTooLarge(f"size: {size} bytes is over the {limit_mb} MB limit", code="file_too_large")


def create_upload(ports: Ports, settings: IntakeSettings, user_id: str, filename: str, content_type: str, size: int) -> dict:
    """A presigned PUT into the caller's own prefix for a file of exactly `size` bytes."""
    name = safe_filename(filename)
    content_type = check_media_type(name, content_type)
    check_size(size, settings.max_upload_mb)
    upload_id = new_id()
    key = f"audio/{user_id}/{upload_id}/{name}"
    url, headers = ports.store.presign_put(key, content_type, size, settings.upload_url_seconds)
    expires_at = datetime.now(timezone.utc) + timedelta(seconds=settings.upload_url_seconds)
    # Kept a week: S3 holds a PUT to the signed size and type, the emulator does not, so
    # POST /transcribe compares the stored object with this.
    ports.user_state.put_upload(user_id, upload_id, size, content_type, int(expires_at.timestamp()) + 7 * 86400)
    return {"upload_id": upload_id, "url": url, "headers": headers, "expires_at": expires_at.isoformat(timespec="seconds")}


def check_quota(user_state: UserStateTable, settings: UsageSettings, user_id: str) -> None:
    """`QuotaExceeded` at once when this month's transcribed audio has reached the quota.

    The full check, with the jobs in flight and the new job's own length, is `quota.reserve`.
    """
    quota = settings.monthly_quota_seconds
    if not quota:
        return
    used = user_state.usage(user_id)["audio_seconds"]
    if used >= quota:
        year, month = map(int, month_of().split("-"))
        resets = f"{year + month // 12}-{month % 12 + 1:02d}-01"
        raise QuotaExceeded(
            f"monthly quota used up: {used / 60:.1f} of {quota / 60:.0f} minutes this month; it resets on {resets} (UTC)",
            code="quota_exceeded",
        )


def submit_upload(
    ports: Ports, settings: IntakeSettings, user_id: str, upload_id: str, options: TranscribeOptions,
    *, source_sha256: str | None = None,
) -> dict:
    """Queue a transcription of an uploaded file. The upload's id becomes the job's id;
    `source_sha256` is the file's digest as the client declared it."""
    check_quota(ports.user_state, settings, user_id)
    if not re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", upload_id):
        raise InvalidInput("upload_id: not an upload id")
    try:
        key, size = ports.store.first_under(f"audio/{user_id}/{upload_id}/")
    except NotFound:
        raise NotFound("upload not found: PUT the file to the upload URL first") from None
    check_size(size, settings.max_upload_mb)
    check_declared(ports, user_id, upload_id, key, size)
    seconds, _ = probe_duration(size, lambda offset, length: ports.store.read_range(key, offset, length))
    return _register_and_enqueue(ports, settings, user_id, upload_id, key, options, seconds, source_sha256)


def check_declared(ports: Ports, user_id: str, upload_id: str, key: str, size: int) -> None:
    """The stored object is the one `POST /uploads` was asked for: same size, same type."""
    declared = ports.user_state.get_upload(user_id, upload_id)
    if declared is None:
        raise NotFound("upload not found or expired: create a new one with POST /uploads")
    if size != int(declared["size"]):
        raise InvalidInput(
            f"size: the uploaded file is {size} bytes, but {declared['size']} were declared; upload it again",
            code="upload_size_mismatch",
        )
    _, stored_type = ports.store.head(key)
    if stored_type.split(";")[0].strip().lower() != str(declared["content_type"]).lower():
        raise UnsupportedMediaType(
            f"content_type: the uploaded file is '{stored_type or 'none'}', but '{declared['content_type']}' was declared; "
            "send the headers POST /uploads returned",
            code="upload_type_mismatch",
        )


def submit_file(
    ports: Ports,
    settings: IntakeSettings,
    user_id: str,
    filename: str,
    content_type: str,
    body: bytes,
    options: TranscribeOptions,
    limit_mb: int | None = None,
) -> dict:
    """Queue a transcription of a small file sent in the request itself."""
    check_quota(ports.user_state, settings, user_id)
    name = safe_filename(filename)
    content_type = check_media_type(name, content_type)
    check_size(len(body), limit_mb or settings.max_multipart_mb)
    job_id = new_id()
    key = f"audio/{user_id}/{job_id}/{name}"
    seconds, _ = probe_bytes(body)
    quota.reserve(ports.user_state, ports.transcripts, settings, user_id, job_id, seconds, turn=_turns_on(settings))
    try:
        ports.store.put_bytes(key, body, content_type)
    except GrabadoraError:
        quota.release(ports.user_state, user_id, job_id)
        raise
    return _register_and_enqueue(ports, settings, user_id, job_id, key, options, None, hashlib.sha256(body).hexdigest())


def _turns_on(settings: UsageSettings) -> bool:
    return settings.jobs_queued_per_user > 0


def with_user_languages(user_state: UserStateTable, user_id: str, options: TranscribeOptions) -> TranscribeOptions:
    """Options whose detection is limited to the user's languages, unless the request forced a
    language, named its own list, or asked for any language (`language: "any"`, an empty list)."""
    if options.language or options.allowed_languages is not None:
        return options
    return options.model_copy(update={"allowed_languages": user_state.get_languages(user_id) or list(DEFAULT_LANGUAGES)})


def _register_and_enqueue(
    ports: Ports, settings: IntakeSettings, user_id: str, job_id: str, audio_key: str, options: TranscribeOptions,
    reserve_seconds: float | None, source_sha256: str | None = None,
) -> dict:
    """Create the job's item and queue it; `reserve_seconds`: hold them first (None: held already)."""
    options = with_user_languages(ports.user_state, user_id, options)
    if reserve_seconds is not None:
        quota.reserve(ports.user_state, ports.transcripts, settings, user_id, job_id, reserve_seconds, turn=_turns_on(settings))
    now = utc_now()
    title = options.title or PurePath(audio_key).stem
    item = TranscriptItem(
        user_id=user_id,
        transcript_id=job_id,
        status=JobStatus.QUEUED,
        title=title,
        tags=options.tags,
        search_text=search_text(title, options.tags, ""),  # found by title and tags from the start
        language=options.language,
        quality_profile=options.profile,
        options=options.model_dump(mode="json"),
        audio_key=audio_key,
        source_sha256=source_sha256,
        created_at=now,
        updated_at=now,
    )
    try:
        ports.transcripts.create(item)
    except Conflict:
        raise Conflict(f"upload {job_id} was already submitted; its job id is {job_id}") from None
    except GrabadoraError:
        quota.release(ports.user_state, user_id, job_id)
        raise
    message = JobMessage(job_id=job_id, user_id=user_id, audio_key=audio_key, options=options)
    try:
        if _turns_on(settings):
            # Queued now if the user has a turn free, else held until an earlier job ends.
            turns.take_turns(ports.user_state, ports.transcripts, ports.queue, settings, user_id)
        else:
            ports.queue.send(message.model_dump_json(), group=user_id)
    except GrabadoraError as e:
        # Never leave a job `queued` that no worker will ever see.
        try:
            ports.transcripts.fail(user_id, job_id, "the job could not be queued; submit it again")
        except Conflict:
            pass  # it was queued after all and has ended since
        try:
            turns.drop(ports.user_state, user_id, job_id)
        except GrabadoraError:
            pass  # its item is failed: the next submit's turns drop it anyway
        raise ServiceUnavailable("the job queue is unavailable; try again") from e
    nudge_worker(ports.worker)
    metrics.job_submitted("file")
    stream_token = auth.issue_stream_token(settings, user_id, job_id, ports.user_state.token_version(user_id) or 0)
    base = (settings.public_url or "").rstrip("/")
    return {
        "job_id": job_id,
        "status": JobStatus.QUEUED.value,
        "quality_profile": options.profile.value,
        "stream_url": f"{base}/transcribe/{job_id}?token={stream_token}",
    }


def retranscribe(ports: Ports, settings: IntakeSettings, user_id: str, transcript_id: str, language: str | None) -> dict:
    """A new job over the same audio as `transcript_id`, with the same options but the language
    given (forced; `None` or 'auto': detected among the user's languages again; 'any': among
    all). The old transcript stays until the user deletes it; the new one has its own copy of
    the audio, so deleting either leaves the other whole."""
    item = ports.transcripts.get(user_id, transcript_id)
    if item.status not in (JobStatus.COMPLETED, JobStatus.FAILED) or not item.audio_key:
        raise Conflict("this transcript is still being made; transcribe it again once it has finished")
    check_quota(ports.user_state, settings, user_id)
    asked = {k: v for k, v in item.options.items() if k in TranscribeOptions.model_fields and k != "allowed_languages"}
    try:
        options = TranscribeOptions.model_validate({**asked, "title": item.title, "tags": item.tags, "language": language})
    except ValueError as e:
        raise InvalidInput(f"language: {e}") from None
    job_id = new_id()
    key = f"audio/{user_id}/{job_id}/{PurePath(item.audio_key).name}"
    try:
        ports.store.copy(item.audio_key, key)
    except NotFound:
        raise Conflict("the audio of this transcript is no longer stored") from None
    return _register_and_enqueue(ports, settings, user_id, job_id, key, options, item.duration or 0.0, item.source_sha256)
