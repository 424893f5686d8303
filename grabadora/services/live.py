"""Live sessions: start one, take its audio frames, stop or discard it (ARCHITECTURE.md §8).

The API only stores frames and flags; the worker that claimed the session (from the `live`
queue) tails the frames, publishes words through the events table and stores the recording
and transcript when the session ends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from grabadora import auth, metrics
from grabadora.adapters.events_table import EventsTable
from grabadora.adapters.queues import JobQueue
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.shares import SharesTable
from grabadora.adapters.live_frames import LiveFramesTable
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import UserStateTable
from grabadora.adapters.worker_service import NoWorkerNudge, WorkerNudge
from grabadora.errors import Conflict, GrabadoraError, InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable
from grabadora.formats import search_text
from grabadora.ids import new_id
from grabadora.models import JobStatus, LiveLimits, LiveMessage, LiveOptions, StopReason, TranscriptItem, utc_now
from grabadora.services import quota, turns
from grabadora.services.jobs import check_quota, nudge_worker, with_user_languages
from grabadora.settings import IntakeSettings

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2  # PCM16 mono

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
IDEMPOTENCY_KEY_MAX = 255
# A claimed key whose session item is not there yet: its first request is still creating it.
_CREATING_SECONDS = 60


@dataclass(frozen=True)
class LivePorts:
    transcripts: TranscriptsTable
    frames: LiveFramesTable
    queue: JobQueue  # the live queue
    user_state: UserStateTable
    # For discarding a session (its recording, transcript and events); None where unused.
    store: ObjectStore | None = None
    events: EventsTable | None = None
    shares: SharesTable | None = None  # a completed session's share links go with it
    # Starts the GPU worker service when a session arrives while it is at zero tasks (AWS only).
    worker: WorkerNudge = field(default_factory=NoWorkerNudge)


def recording_key(user_id: str, live_id: str) -> str:
    """Where the whole recording is stored when the session ends."""
    return f"audio/{user_id}/{live_id}/recording.wav"


def start_session(
    ports: LivePorts, settings: IntakeSettings, user_id: str, options: LiveOptions, *, live_id: str | None = None
) -> dict:
    """Create the session's transcript item (status `live`) and let one worker claim it."""
    check_quota(ports.user_state, settings, user_id)
    options = with_user_languages(ports.user_state, user_id, options)
    live_id = live_id or new_id()
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
    title = options.title or f"Grabación {started} UTC"
    item = TranscriptItem(
        user_id=user_id,
        transcript_id=live_id,
        status=JobStatus.LIVE,
        title=title,
        tags=options.tags,
        search_text=search_text(title, options.tags, ""),
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
    nudge_worker(ports.worker)
    metrics.job_submitted("live")
    return _created(ports, settings, item)


def _created(ports: LivePorts, settings: IntakeSettings, item: TranscriptItem) -> dict:
    """POST /live's answer for a session (the first time, and to a retry with its key)."""
    assert item.live is not None
    base = (settings.public_url or "").rstrip("/")
    token = auth.issue_stream_token(
        settings, item.user_id, item.transcript_id, ports.user_state.token_version(item.user_id) or 0
    )
    return {
        "live_id": item.transcript_id,
        "status": JobStatus(item.status).value,
        "quality_profile": (item.quality_profile or LiveOptions().profile).value,
        "final_pass": item.live.final_pass,
        "stream_url": f"{base}/transcribe/{item.transcript_id}?token={token}",
        "max_seconds": item.live.max_seconds,
        "idle_timeout_seconds": settings.live_idle_seconds,
        "frame_max_bytes": settings.live_frame_max_bytes,
        "sample_rate": SAMPLE_RATE,
    }


def idempotency_key_hash(key: str) -> str:
    """The stored name of a client's `Idempotency-Key`; `InvalidInput` for one that cannot be."""
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX or not all("!" <= c <= "~" for c in key):
        raise InvalidInput(
            f"Idempotency-Key: 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters (a UUID is a good one)",
            code="invalid.idempotency_key",
        )
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def request_fingerprint(options: LiveOptions) -> str:
    """What a retry must repeat: the request's options, every default filled in."""
    canonical = json.dumps(options.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def start_session_once(
    ports: LivePorts, settings: IntakeSettings, user_id: str, options: LiveOptions, key: str | None
) -> tuple[dict, bool]:
    """`start_session`, once per `Idempotency-Key`: (the answer, whether it is a replay).

    The same key from the same user within 24 h answers the session its first request started
    (its current status, a fresh stream token); the same key with other options is
    `InvalidInput` (422); a key whose first request is still starting the session is `Conflict`.
    """
    if key is None:
        return start_session(ports, settings, user_id, options), False
    key_hash = idempotency_key_hash(key)
    fingerprint = request_fingerprint(options)
    live_id = new_id()
    existing = ports.user_state.claim_idempotency(
        user_id, "live", key_hash, {"fingerprint": fingerprint, "live_id": live_id}, IDEMPOTENCY_TTL_SECONDS
    )
    if existing is None:
        try:
            return start_session(ports, settings, user_id, options, live_id=live_id), False
        except BaseException:
            # Refused (quota, cap) or failed: the key is free again, so the client's retry runs it anew.
            try:
                ports.user_state.forget_idempotency(user_id, "live", key_hash)
            except GrabadoraError:
                logger.warning("live: idempotency key of a failed start not forgotten", exc_info=True)
            raise
    if existing.get("fingerprint") != fingerprint:
        raise InvalidInput(
            "Idempotency-Key: this key already started a live session with other options; "
            "send the same request again, or use a new key for a new session",
            code="idempotency_key_reused",
        )
    first = str(existing["live_id"])
    try:
        item = ports.transcripts.get(user_id, first)
    except NotFound:
        if ports.user_state.live_cancelled(user_id, first):
            raise Conflict(
                f"Idempotency-Key: the live session this key started ({first}) was discarded; "
                "use a new key for a new session",
                code="idempotency_key_used",
            ) from None
        if time.time() - float(existing.get("created", 0)) < _CREATING_SECONDS:
            raise Conflict(
                "Idempotency-Key: a request with this key is still starting its live session; retry in a moment",
                code="idempotency_key_in_use",
            ) from None
        raise Conflict(
            f"Idempotency-Key: the live session this key started ({first}) no longer exists; "
            "use a new key for a new session",
            code="idempotency_key_used",
        ) from None
    return _created(ports, settings, item), True


def check_frame(pcm: bytes, settings: IntakeSettings) -> None:
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


def put_frame(ports: LivePorts, settings: IntakeSettings, user_id: str, live_id: str, seq: int, pcm: bytes) -> bool:
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


def cancel_session(ports: LivePorts, settings: IntakeSettings, user_id: str, live_id: str) -> dict:
    """Discard the caller's session: no transcript is kept, whatever state it is in.

    The session's item goes first (the worker notices at its next look, within a second, stops
    and deletes the frames: the API may only put frames, least privilege), then its recording,
    transcript document and events; the quota it held is released. A tombstone (`live-cancelled#<id>`, 48 h) is written before anything is removed,
    so a repeated cancel (a retry after a lost answer) answers the same and finishes what an
    interrupted one left. Another user's session, or an unknown one, is `NotFound`.
    """
    try:
        _session(ports, user_id, live_id)
    except NotFound:
        if not _well_formed(live_id) or not ports.user_state.live_cancelled(user_id, live_id):
            raise
    else:
        ports.user_state.mark_live_cancelled(user_id, live_id)
        if ports.shares is not None and ports.store is not None:
            # A completed session's share links stop opening first (and their audio copies go).
            from grabadora.services import shares

            shares.delete_for_transcript(
                shares.SharePorts(shares=ports.shares, transcripts=ports.transcripts, store=ports.store,
                                  user_state=ports.user_state),
                user_id, live_id,
            )
        try:
            ports.transcripts.delete(user_id, live_id)
        except NotFound:
            pass  # a concurrent cancel or delete
    if ports.store is not None:
        ports.store.delete_prefix(f"audio/{user_id}/{live_id}/")
        ports.store.delete(f"transcripts/{user_id}/{live_id}.json")
    if ports.events is not None:
        ports.events.delete_job(live_id)
    # Its hold goes now (the next submit would drop it anyway, as its item is gone). A live hold
    # is no turn in the jobs queue, so no held file job is due because of it.
    turns.drop(ports.user_state, user_id, live_id)
    return {"live_id": live_id, "status": "cancelled"}


def _well_formed(live_id: str) -> bool:
    return live_id.isascii() and live_id.isalnum() and len(live_id) == 26


def _session(ports: LivePorts, user_id: str, live_id: str) -> TranscriptItem:
    if not _well_formed(live_id):
        raise NotFound("live session not found")
    try:
        item = ports.transcripts.get(user_id, live_id)
    except NotFound:
        raise NotFound("live session not found") from None
    if item.source != "live":
        raise NotFound("live session not found")
    return item

