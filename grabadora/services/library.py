"""Reading finished transcripts back."""

from __future__ import annotations

from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.models import JobStatus

_PUBLIC_FIELDS = (
    "transcript_id", "status", "title", "tags", "language", "quality_profile", "options", "duration",
    "progress", "attempts", "error", "created_at", "updated_at", "usage",
)


def get_transcript(store: ObjectStore, transcripts: TranscriptsTable, user_id: str, transcript_id: str) -> dict:
    """Metadata, the transcript's segments once completed, and a presigned audio URL."""
    item = transcripts.get(user_id, transcript_id)
    result = {k: item.get(k) for k in _PUBLIC_FIELDS}
    result["id"] = result.pop("transcript_id")
    result["audio_url"] = store.presign_get(item["audio_key"])
    result["text"] = None
    result["segments"] = []
    if item["status"] == JobStatus.COMPLETED and item.get("transcript_key"):
        document = store.get_json(item["transcript_key"])
        result["text"] = document["text"]
        result["segments"] = document["segments"]
        result["language_probability"] = document.get("language_probability")
        result["model"] = document.get("model")
    return result
