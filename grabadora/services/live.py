"""Live sessions: start one, take its audio frames, stop it (ARCHITECTURE.md §8).

The API only stores frames and flags; the worker that claimed the session (from the `live`
queue) tails the frames, publishes words through the events table and stores the recording
and transcript when the session ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from grabadora import auth
from grabadora.adapters.job_queue import JobQueue
from grabadora.adapters.live_frames import LiveFramesTable
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import UserStateTable
from grabadora.errors import Conflict, GrabadoraError, InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable
from grabadora.ids import new_id
from grabadora.models import JobStatus, LiveLimits, LiveMessage, LiveOptions, StopReason, TranscriptItem, utc_now
from grabadora.services import quota
from grabadora.services.jobs import check_quota, with_user_languages
from grabadora.settings import Settings

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2  # PCM16 mono


@dataclass(frozen=True)
class LivePorts:
    transcripts: TranscriptsTable
    frames: LiveFramesTable
    queue: JobQueue  # the live queue
    user_state: UserStateTable


def recording_key(user_id: str, live_id: str) -> str:
    """Where the whole recording is stored when the session ends."""
    return f"audio/{user_id}/{live_id}/recording.wav"


def start_session(ports: LivePorts, settings: Settings, user_id: str, options: LiveOptions) -> dict:
    """Create the session's transcript item (status `live`) and let one worker claim it."""
    check_quota(ports.user_state, settings, user_id)
    options = with_user_languages(ports.user_state, user_id, options)
    live_id = new_id()
    # The session holds its whole length against the quota (or what is left of it, and then
    # stops for the quota), so parallel sessions and jobs never add up past it.
    max_seconds, limit = settings.live_max_seconds, StopReason.MAX_SECONDS
    held = quota.reserve(
        ports.user_state, ports.transcripts, settings, user_id, live_id, float(max_seconds), shrink_to_fit=True
    )
    if held < max_seconds:
        max_seconds, limit = max(int(held), 1), StopReason.QUOTA
    now = utc_now()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    audio_key = recording_key(user_id, live_id)
    item = TranscriptItem(
        user_id=user_id,
        transcript_id=live_id,
        status=JobStatus.LIVE,
        title=options.title or f"Grabación {started} UTC",
        tags=options.tags,
        language=options.language,
        quality_profile=options.profile,
        options=options.model_dump(mode="json"),
        audio_key=audio_key,
        source="live",
        live=LiveLimits(max_seconds=max_seconds, limit=limit, final_pass=options.wants_final_pass),
        created_at=now,
        updated_at=now,
    )
    try:
        ports.transcripts.create(item)
    except GrabadoraError:
        quota.release(ports.user_state, user_id, live_id)
        raise
    message = LiveMessage(
        job_id=live_id, user_id=user_id, audio_key=audio_key, options=options,
        max_seconds=max_seconds, limit=limit, idle_seconds=settings.live_idle_seconds,
    )
    try:
        ports.queue.send(message.model_dump_json())
    except GrabadoraError as e:
        ports.transcripts.fail(user_id, live_id, "the live session could not be started; try again")
        raise ServiceUnavailable("the live session could not be started; try again") from e
    base = (settings.public_url or "").rstrip("/")
    return {
        "live_id": live_id,
        "status": JobStatus.LIVE.value,
        "quality_profile": options.profile.value,
        "final_pass": options.wants_final_pass,
        "stream_url": f"{base}/transcribe/{live_id}?token={auth.issue_stream_token(settings, user_id, live_id, ports.user_state.token_version(user_id) or 0)}",
        "max_seconds": max_seconds,
        "idle_timeout_seconds": settings.live_idle_seconds,
        "frame_max_bytes": settings.live_frame_max_bytes,
        "sample_rate": SAMPLE_RATE,
    }


def check_frame(pcm: bytes, settings: Settings) -> None:
    """`InvalidInput` / `PayloadTooLarge` for a body that cannot be a PCM16 frame."""
    if not pcm:
        raise InvalidInput("body: the frame is empty; send PCM16 little-endian mono samples at 16 kHz")
    if len(pcm) > settings.live_frame_max_bytes:
        raise PayloadTooLarge(
            f"body: {len(pcm)} bytes is over the {settings.live_frame_max_bytes}-byte frame limit "
            f"({settings.live_frame_max_bytes / BYTES_PER_SECOND:g} s); send shorter frames"
        )
    if len(pcm) % 2:
        raise InvalidInput("body: PCM16 frames have an even number of bytes (2 per sample)")


def put_frame(ports: LivePorts, settings: Settings, user_id: str, live_id: str, seq: int, pcm: bytes) -> bool:
    """Store frame `seq` of the caller's session; whether it was new (a repeat is a no-op)."""
    check_frame(pcm, settings)
    item = _session(ports, user_id, live_id)
    if item.status is not JobStatus.LIVE:
        reason = item.stop_reason
        why = {
            StopReason.IDLE: "it stopped by itself after no audio arrived for a while",
            StopReason.MAX_SECONDS: "it reached its length limit",
            StopReason.QUOTA: "the monthly quota ran out",
        }.get(reason, "it was stopped")
        raise Conflict(f"the live session takes no more audio: {why}")
    total = item.frames_total
    if total is not None and seq >= total:
        raise Conflict(f"the live session was stopped after {total} frames; frame {seq} comes after its end")
    return ports.frames.put(live_id, seq, pcm)


def stop_session(ports: LivePorts, user_id: str, live_id: str, frames: int | None) -> dict:
    """Ask the worker to finish the session once its frames (`frames` of them, if given) are in.

    Idempotent: stopping a session that is already stopping or ended answers its status.
    """
    item = _session(ports, user_id, live_id)
    if item.status is JobStatus.LIVE and item.stop_requested is None:
        try:
            item = ports.transcripts.request_stop(user_id, live_id, frames)
        except Conflict:
            item = _session(ports, user_id, live_id)
    return {"live_id": live_id, "status": item.status}


def _session(ports: LivePorts, user_id: str, live_id: str) -> TranscriptItem:
    if not live_id.isalnum() or len(live_id) != 26:
        raise NotFound("live session not found")
    try:
        item = ports.transcripts.get(user_id, live_id)
    except NotFound:
        raise NotFound("live session not found") from None
    if item.source != "live":
        raise NotFound("live session not found")
    return item

