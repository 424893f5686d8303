"""Share links: a read-only public link to one completed transcript (player and text).

- The link's token is 32 random bytes (`secrets.token_urlsafe`, 43 characters); only its
  SHA-256 is stored (`grabadora/adapters/shares.py`), so a copy of the tables opens nothing.
  The whole link is shown once, when it is made.
- A link expires (1 to 90 days, 7 by default) and its owner can revoke it at any time.
  Deleting the transcript or the account kills its links (`delete_for_transcript`), and a link
  whose account is gone or being deleted (no `session` item) opens nothing either.
- What a link shows is only what `public_view` builds: title, duration, language, the corrected
  text and segments with word timings (speaker names applied, as downloads print them), the
  link's expiry and a short-lived presigned URL of a **copy** of the audio under
  `shared/<share_id>/audio` — the original's key names the owner's user id and the uploaded
  file's name, which the link must not show. The copy goes when the link is revoked, when
  its transcript goes, or when an expired link is swept; on AWS a lifecycle rule removes any
  left after 91 days.
- Unknown, malformed, expired, revoked and deleted links all answer the same 404; an address
  that asks for more than `GRABADORA_SHARE_MISSES_PER_IP` links that do not open within
  `GRABADORA_SHARE_WINDOW_SECONDS` waits (429), so the route cannot be used to enumerate (not
  that 256 random bits could be).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from grabadora.adapters.login_throttle import LoginThrottle
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.shares import SharesTable, token_digest
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import UserStateTable
from grabadora.errors import Conflict, InvalidInput, NotFound, RateLimited
from grabadora.formats import apply_corrections, apply_speaker_names
from grabadora.ids import new_id
from grabadora.models import utc_now
from grabadora.settings import IntakeSettings

DEFAULT_DAYS = 7
MAX_DAYS = 90
MAX_LINKS = 20  # per transcript, at once
SHARED_PREFIX = "shared/"
PUBLIC_PATH = "/compartido/"
# Kept this long after expiring, then DynamoDB's TTL drops the items (reads check `expires`).
_TTL_GRACE_SECONDS = 86400
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
UNAVAILABLE = "this shared link does not exist or is no longer available"


@dataclass(frozen=True)
class SharePorts:
    shares: SharesTable = field(default_factory=SharesTable)
    transcripts: TranscriptsTable = field(default_factory=TranscriptsTable)
    store: ObjectStore = field(default_factory=ObjectStore)
    user_state: UserStateTable = field(default_factory=UserStateTable)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """A link as its owner sees it in a listing (never the token: only its hash is stored)."""
    return {"id": record["share_id"], "created_at": record["created_at"], "expires_at": record["expires_at"]}


# The owner's side -----------------------------------------------------------------------------


def create(ports: SharePorts, settings: IntakeSettings, user_id: str, transcript_id: str, days: int = DEFAULT_DAYS) -> dict[str, Any]:
    """A new link to one of the caller's completed transcripts; the only answer that shows its token."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"expires_in_days: must be between 1 and {MAX_DAYS}")
    item = ports.transcripts.get(user_id, transcript_id)  # someone else's: NotFound, as for every route
    if not item.is_completed:
        raise Conflict(f"the transcript is {item.status}: only completed transcripts can be shared", code="share_not_completed")
    if len(list_links(ports, user_id, transcript_id, checked=True)) >= MAX_LINKS:
        raise Conflict(f"at most {MAX_LINKS} links per transcript: revoke one first", code="share_limit")
    share_id, token = new_id(), secrets.token_urlsafe(32)
    now = time.time()
    expires = int(now) + days * 86400
    audio_key = None
    if item.audio_key:
        audio_key = f"{SHARED_PREFIX}{share_id}/audio"
        try:
            ports.store.copy(item.audio_key, audio_key)
        except NotFound:
            audio_key = None  # the recording is gone: the link shows the text alone
    record = {
        "share_id": share_id,
        "created_at": utc_now(),
        "expires_at": _iso(expires),
        "expires": expires,
        "ttl": expires + _TTL_GRACE_SECONDS,
        "audio_key": audio_key,
    }
    ports.shares.put(user_id, transcript_id, share_id, token_digest(token), record)
    path = PUBLIC_PATH + token
    return {**_public(record), "token": token, "path": path, "url": (settings.public_url or "").rstrip("/") + path}


def list_links(ports: SharePorts, user_id: str, transcript_id: str, *, checked: bool = False) -> list[dict[str, Any]]:
    """The transcript's links that still open, oldest first; expired ones are swept on the way."""
    if not checked:
        ports.transcripts.get(user_id, transcript_id)  # NotFound for someone else's
    now = time.time()
    alive = []
    for record in ports.shares.list(user_id, transcript_id):
        if record["expires"] <= now:
            _remove(ports, user_id, transcript_id, record)
        else:
            alive.append(_public(record))
    return alive


def revoke(ports: SharePorts, user_id: str, transcript_id: str, share_id: str) -> None:
    """The link stops opening at once; `NotFound` when the caller has no such link."""
    ports.transcripts.get(user_id, transcript_id)
    record = ports.shares.get(user_id, transcript_id, share_id) if re.fullmatch(r"[0-9A-Z]{26}", share_id) else None
    if record is None:
        raise NotFound("no such share link")
    _remove(ports, user_id, transcript_id, record)


def delete_for_transcript(ports: SharePorts, user_id: str, transcript_id: str) -> None:
    """Every link of a transcript goes (the transcript is being deleted)."""
    for record in ports.shares.list(user_id, transcript_id):
        _remove(ports, user_id, transcript_id, record)


def _remove(ports: SharePorts, user_id: str, transcript_id: str, record: dict[str, Any]) -> None:
    # The lookup item first (the link stops opening), then the audio copy, then the owner's item,
    # so an interrupted removal is still listed and repeating it finishes the job.
    ports.shares.delete_lookup(record["token_sha256"])
    ports.store.delete_prefix(f"{SHARED_PREFIX}{record['share_id']}/")
    ports.shares.delete_owned(user_id, transcript_id, record["share_id"])


# The public side ------------------------------------------------------------------------------


def open_link(ports: SharePorts, settings: IntakeSettings, token: str, client_ip: str | None) -> dict[str, Any]:
    """What a link shows, or the same `NotFound` whatever the reason it shows nothing."""
    key = f"share-throttle#ip#{client_ip}" if client_ip and settings.share_misses_per_ip else None
    if key is not None:
        wait = ports.throttle.retry_after(key, settings.share_misses_per_ip, settings.share_window_seconds)
        if wait is not None:
            raise RateLimited("too many shared links that do not open from this address; try again later", wait,
                              code="share_rate_limited")
    view = public_view(ports, settings, token)
    if view is None:
        if key is not None:
            ports.throttle.record_failure(key, settings.share_window_seconds)
        raise NotFound(UNAVAILABLE, code="share_unavailable")
    return view


def public_view(ports: SharePorts, settings: IntakeSettings, token: str) -> dict[str, Any] | None:
    """The transcript behind a live link, with nothing of its account; None if it shows nothing."""
    if not _TOKEN.fullmatch(token):
        return None
    found = ports.shares.find(token_digest(token))
    if found is None or found["expires"] <= time.time():
        return None
    owner, transcript_id = found["owner"], found["transcript_id"]
    if ports.user_state.token_version(owner) is None:
        return None  # the account is gone, or being deleted
    try:
        item = ports.transcripts.get(owner, transcript_id)
        if not item.is_completed:
            return None
        document = ports.store.get_json(item.transcript_key)
    except NotFound:
        return None
    corrections = item.corrections_by_segment()
    if corrections:
        document = apply_corrections(document, corrections)
    document = apply_speaker_names(document, item.speaker_names)
    audio_key = found.get("audio_key")
    return {
        "title": item.title,
        "duration": item.duration,
        "language": item.language,
        "text": document["text"],
        "segments": [
            {
                "id": s["id"], "t0": s["t0"], "t1": s["t1"], "text": s["text"], "speaker": s.get("speaker"),
                "words": [
                    {"text": w["text"], "t0": w["t0"], "t1": w["t1"], "speaker": w.get("speaker")}
                    for w in s.get("words") or []
                ],
            }
            for s in document["segments"]
        ],
        "audio_url": ports.store.presign_get(audio_key, settings.share_audio_url_seconds) if audio_key else None,
        "expires_at": found["expires_at"],
    }
