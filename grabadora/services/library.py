"""The library: list, search, read, correct, download, delete and export finished transcripts.

Search is over title, tags and the transcript's text, case- and accent-insensitive. DynamoDB
has no full-text index, so each item carries `search_text` (the folded title, tags and
corrected text, capped at `SEARCH_TEXT_MAX_CHARS`) and a listing is a query of the caller's
own partition, newest first, filtered with `contains` for every search term. That reads only
the caller's items and needs no extra service; at the scale of one person's library it is
fast, and an OpenSearch index can replace it without changing the API.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from grabadora.adapters.events_table import EventsTable
from grabadora.adapters.queues import ExportQueue
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.shares import SharesTable
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import SECRET_FIELDS, UserStateTable
from grabadora.errors import Conflict, GrabadoraError, InvalidInput, ServiceUnavailable
from grabadora.formats import Rendered, apply_corrections, apply_speaker_names, fold, preview, render, search_text
from grabadora.ids import new_id
from grabadora.integrations import PermanentDeliveryError, TransientDeliveryError
from grabadora.integrations.netguard import check_url
from grabadora.models import (
    ExportDelivery,
    ExportDestination,
    ExportMessage,
    ExportRecord,
    ExportStatus,
    JobStatus,
    TranscriptDetail,
    TranscriptItem,
    utc_now,
)
from grabadora.services import quota as quota_service
from grabadora.settings import IntegrationSettings, UsageSettings

MAX_PAGE = 100

@dataclass(frozen=True)
class LibraryPorts:
    store: ObjectStore
    transcripts: TranscriptsTable
    events: EventsTable
    user_state: UserStateTable
    exports: ExportQueue
    shares: SharesTable = field(default_factory=SharesTable)


# Listing -------------------------------------------------------------------------------------


def list_transcripts(
    ports: LibraryPorts, user_id: str, *, search: str | None, status: JobStatus | None, limit: int, cursor: str | None,
    source_sha256: str | None = None,
) -> dict[str, Any]:
    """`{items, next_cursor}`: the caller's transcripts, newest first, matching every search term
    (and made from the file with that digest, when `source_sha256` is given)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: must be between 1 and {MAX_PAGE}")
    # "#reunión" is how people write a tag; tags are stored without the mark.
    terms = [t for t in (word.lstrip("#") for word in fold(search or "").split()) if t][:10]
    items, next_cursor = ports.transcripts.list_page(
        user_id, terms=terms, status=status, limit=limit, cursor=cursor, source_sha256=source_sha256
    )
    return {"items": items, "next_cursor": next_cursor}


# One transcript ------------------------------------------------------------------------------


def _document(ports: LibraryPorts, item: TranscriptItem) -> dict[str, Any]:
    """The stored transcript with the user's corrections applied."""
    if not item.is_completed:
        raise Conflict(f"the transcript is {item.status}, not completed yet")
    document = ports.store.get_json(item.transcript_key)
    corrections = item.corrections_by_segment()
    return apply_corrections(document, corrections) if corrections else document


def get_transcript(ports: LibraryPorts, user_id: str, transcript_id: str) -> TranscriptDetail:
    """Metadata, segments (corrected) once completed, a presigned audio URL and export history."""
    item = ports.transcripts.get(user_id, transcript_id)
    document = _document(ports, item) if item.is_completed else None
    return TranscriptDetail.of(
        item,
        audio_url=ports.store.presign_get(item.audio_key) if item.audio_key else None,
        document=document,
    )


# How often a PATCH without a version re-reads and re-applies its change after losing a race.
_PATCH_ATTEMPTS = 10


def update_transcript(
    ports: LibraryPorts,
    user_id: str,
    transcript_id: str,
    *,
    title: str | None = None,
    tags: list[str] | None = None,
    segments: dict[int, str] | None = None,
    speakers: dict[str, str | None] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Change title and tags, correct segment texts and name speakers ({"S1": "Ana"}, null to
    drop a name); later reads, downloads and exports use them.

    Every write is conditional on the item's `version` (optimistic concurrency), so two PATCHes
    never overwrite each other's corrections. With `expected_version`, a transcript changed since
    that version is a `Conflict` (409); without it, a lost race re-reads and merges again.
    """
    for _ in range(_PATCH_ATTEMPTS):
        item = ports.transcripts.get(user_id, transcript_id)
        if expected_version is not None and expected_version != item.version:
            raise Conflict(
                f"the transcript changed since version {expected_version} (it is at version {item.version}); "
                "reload it and apply your change again"
            )
        edit = _edit(ports, item, title=title, tags=tags, segments=segments, speakers=speakers)
        if not edit:
            return get_transcript(ports, user_id, transcript_id)
        try:
            ports.transcripts.save_edit(user_id, transcript_id, version=item.version, **edit)
        except Conflict:
            if expected_version is not None:
                raise Conflict(
                    f"the transcript changed since version {expected_version}; reload it and apply your change again"
                ) from None
            time.sleep(random.uniform(0.005, 0.05))  # someone else wrote first: merge into what they wrote
            continue
        return get_transcript(ports, user_id, transcript_id)
    raise Conflict("the transcript is being changed by someone else right now; try again")


def _edit(
    ports: LibraryPorts,
    item: TranscriptItem,
    *,
    title: str | None,
    tags: list[str] | None,
    segments: dict[int, str] | None,
    speakers: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """`save_edit`'s arguments for this change: the new fields, and the search text and preview
    they imply; empty when nothing changes."""
    edit: dict[str, Any] = {}
    if title is not None:
        edit["title"] = title
    if tags is not None:
        edit["tags"] = tags
    text = None
    if segments:
        if item.status is not JobStatus.COMPLETED:
            raise Conflict(f"the transcript is {item.status}: segments can be corrected once it is completed")
        original = ports.store.get_json(item.transcript_key)
        known = {s["id"] for s in original["segments"]}
        unknown = sorted(set(segments) - known)
        if unknown:
            raise InvalidInput(f"segments: no segment with id {unknown[0]} (ids go from 0 to {len(known) - 1})")
        corrections = {**item.corrections_by_segment(), **segments}
        text = apply_corrections(original, corrections)["text"]
        edit["corrections"] = corrections
    if speakers:
        names = _speaker_names(item, speakers)
        if names != item.speaker_names:
            edit["speaker_names"] = names
    if not edit:
        return edit
    if item.is_completed:
        if text is None:
            text = _document(ports, item)["text"]
        edit["search_text"] = search_text(edit.get("title", item.title), edit.get("tags", item.tags), text)
        edit["preview"] = preview(text)
    elif "title" in edit or "tags" in edit:  # no text yet (running) or ever (failed): title and tags
        edit["search_text"] = search_text(edit.get("title", item.title), edit.get("tags", item.tags), "")
    return edit


def _speaker_names(item: TranscriptItem, speakers: dict[str, str | None]) -> dict[str, str]:
    """The item's speaker names after this change: known labels only; None (or the label
    itself) drops a name."""
    if item.status is not JobStatus.COMPLETED:
        raise Conflict(f"the transcript is {item.status}: speakers can be named once it is completed")
    unknown = sorted(set(speakers) - set(item.speakers))
    if unknown:
        known = f"its speakers are {', '.join(item.speakers)}" if item.speakers else "it has no speaker labels"
        raise InvalidInput(f"speakers: this transcript has no speaker {unknown[0]!r} ({known})")
    names = dict(item.speaker_names)
    for label, name in speakers.items():
        if name is None or name == label:
            names.pop(label, None)
        else:
            names[label] = name
    return names


def download(ports: LibraryPorts, user_id: str, transcript_id: str, fmt: str) -> Rendered:
    """The corrected transcript as a file, speakers printed with the names the user gave them."""
    item = ports.transcripts.get(user_id, transcript_id)
    return render(apply_speaker_names(_document(ports, item), item.speaker_names), item, fmt)


def delete_transcript(ports: LibraryPorts, user_id: str, transcript_id: str) -> None:
    """Remove the item, its share links, its events, its audio and its transcript document.

    The item goes last, so a delete interrupted half-way can simply be repeated.
    """
    from grabadora.services import shares

    item = ports.transcripts.get(user_id, transcript_id)
    # Its share links first: they stop opening before anything else goes.
    shares.delete_for_transcript(shares.SharePorts(shares=ports.shares, transcripts=ports.transcripts, store=ports.store,
                                                   user_state=ports.user_state), user_id, transcript_id)
    ports.store.delete_prefix(f"audio/{user_id}/{transcript_id}/")
    ports.store.delete(f"transcripts/{user_id}/{transcript_id}.json")
    ports.store.delete_prefix(f"checkpoints/{user_id}/{transcript_id}/")  # a long job's partial work
    if item.transcript_key:
        ports.store.delete(item.transcript_key)
    ports.events.delete_job(transcript_id)
    ports.transcripts.delete(user_id, transcript_id)


# Exports and integrations --------------------------------------------------------------------

_REQUIRED = {
    ExportDestination.NOTION: (("token", "notion_token"), ("database_id", None)),
    ExportDestination.TRELLO: (("key", "trello_key"), ("token", "trello_token"), ("list_id", None)),
    ExportDestination.WEBHOOK: (("url", None), ("secret", None)),
}
_OPTION_FOR = {"database_id": "database_id", "list_id": "list_id", "url": "url"}
_LABEL = {ExportDestination.NOTION: "Notion", ExportDestination.TRELLO: "Trello", ExportDestination.WEBHOOK: "the webhook"}


def request_export(
    ports: LibraryPorts,
    settings: IntegrationSettings,
    user_id: str,
    transcript_id: str,
    destination: ExportDestination,
    options: dict[str, Any],
) -> ExportRecord:
    """Record a delivery and queue it for the exporter; 202 material."""
    item = ports.transcripts.get(user_id, transcript_id)
    if item.status is not JobStatus.COMPLETED:
        raise Conflict(f"the transcript is {item.status}: only completed transcripts can be exported")
    configured = ports.user_state.get_integrations(user_id).get(destination.value, {})
    missing = [
        field
        for field, fallback in _REQUIRED[destination]
        if not configured.get(field)
        and not (field in _OPTION_FOR and options.get(_OPTION_FOR[field]))
        and not (fallback and getattr(settings, fallback) is not None)
    ]
    if missing:
        raise InvalidInput(
            f"destination: {_LABEL[destination]} is not configured (missing {', '.join(missing)}); "
            "set it with PUT /me/integrations",
            code="integration_not_configured",
        )
    export_id = new_id()
    now = utc_now()
    delivery = ExportDelivery(destination=destination, status=ExportStatus.QUEUED, created_at=now, updated_at=now)
    ports.transcripts.add_export(user_id, transcript_id, export_id, delivery)
    message = ExportMessage(
        export_id=export_id, user_id=user_id, transcript_id=transcript_id, destination=destination, options=options
    )
    try:
        ports.exports.send(message.model_dump_json())
    except GrabadoraError as e:
        ports.transcripts.update_export(
            user_id, transcript_id, export_id, status=ExportStatus.FAILED, last_error="the export could not be queued"
        )
        raise ServiceUnavailable("the export queue is unavailable; try again") from e
    return ExportRecord(id=export_id, **delivery.model_dump())


def public_integrations(ports: LibraryPorts, user_id: str) -> dict[str, dict[str, Any]]:
    """The user's integration settings without secrets: each secret shows only as `<name>_set`."""
    stored = ports.user_state.get_integrations(user_id)
    result: dict[str, dict[str, Any]] = {}
    for name, secrets in SECRET_FIELDS.items():
        fields = stored.get(name, {})
        result[name] = {k: v for k, v in fields.items() if k not in secrets}
        result[name].update({f"{secret}_set": bool(fields.get(secret)) for secret in sorted(secrets)})
    return result


def put_integrations(
    ports: LibraryPorts, user_id: str, changes: dict[str, dict[str, Any] | None], *, webhook_allow_private: bool = False
) -> dict[str, dict[str, Any]]:
    """Merge changes into the stored settings: an omitted field keeps its value, null clears it,
    and a whole integration set to null is removed.

    A webhook URL that can never be delivered to (not http(s), or a private, loopback or
    reserved address) is refused now, not saved to fail at the first export. A name that does
    not resolve yet is saved: DNS may catch up; the export then says what went wrong."""
    url = (changes.get("webhook") or {}).get("url")
    if url:
        try:
            check_url(url, allow_private=webhook_allow_private)
        except PermanentDeliveryError as e:
            raise InvalidInput(f"webhook.url: {e}", code="invalid.url.not_deliverable") from None
        except TransientDeliveryError:
            pass
    stored = ports.user_state.get_integrations(user_id)
    for name, fields in changes.items():
        if fields is None:
            stored.pop(name, None)
            continue
        merged = {**stored.get(name, {}), **fields}
        stored[name] = {k: v for k, v in merged.items() if v not in (None, "")}
    ports.user_state.put_integrations(user_id, stored)
    return public_integrations(ports, user_id)


def usage(ports: LibraryPorts, settings: UsageSettings, user_id: str) -> dict[str, Any]:
    """The month's usage, the quota, and what jobs in flight hold of it (a submit is refused
    when usage + reserved + its own seconds would pass the quota: grabadora/services/quota.py)."""
    used = ports.user_state.usage(user_id)
    reserved, in_flight = quota_service.held(ports.user_state, ports.transcripts, user_id)
    quota = settings.monthly_quota_seconds or None
    return {
        **used,
        "quota_seconds": quota,
        "remaining_seconds": None if quota is None else max(quota - float(used["audio_seconds"]) - reserved, 0),
        "reserved_seconds": reserved,
        "jobs_in_flight": in_flight,
    }
