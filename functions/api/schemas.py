"""Request and response bodies of the public API."""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from grabadora.models import (
    SHA256_HEX,
    ExportDestination,
    ExportRecord,
    JobStatus,
    LiveOptions,
    QualityProfile,
    TranscribeOptions,
    TranscriptDetail,
    TranscriptSummary,
    clean_line,
    clean_tags,
)

# The library's views are the domain's own (grabadora.models); re-exported for the routes.
__all__ = ["ExportRecord", "TranscriptDetail", "TranscriptSummary"]


class SignupRequest(BaseModel):
    email: str = Field(..., max_length=254, examples=["ana@example.com"])
    password: str = Field(..., min_length=8, max_length=256)
    languages: list[str] | None = Field(
        None,
        max_length=10,
        examples=[["es", "en"]],
        description="Whisper codes of the languages the user speaks, preferred first; default: from Accept-Language, else ['es']",
    )


class UserOut(BaseModel):
    id: str
    email: str
    languages: list[str] = Field(default_factory=list, description="the languages the user speaks, preferred first")


class LanguagesBody(BaseModel):
    """The languages the user speaks; a job with no language is detected among them."""

    languages: list[str] = Field(
        ..., min_length=1, max_length=10, examples=[["es", "en"]],
        description="Whisper language codes, the preferred one first (used when detection is unsure)",
    )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(..., min_length=1, max_length=255, examples=["entrevista.mp3"])
    content_type: str = Field(..., min_length=1, max_length=127, examples=["audio/mpeg"])
    size: int = Field(..., ge=0, description="exact size of the file in bytes")


class UploadOut(BaseModel):
    upload_id: str
    url: str
    headers: dict[str, str]
    expires_at: str


class TranscribeRequest(TranscribeOptions):
    upload_id: str = Field(..., min_length=26, max_length=26)
    source_sha256: str | None = Field(
        None,
        pattern=SHA256_HEX,
        description="SHA-256 (lowercase hex) of the uploaded file's bytes, as the client computed it; kept with the "
        "transcript so GET /transcripts?source_sha256= finds earlier transcripts of the same file",
    )


class JobOut(BaseModel):
    job_id: str
    status: str
    quality_profile: str
    stream_url: str


class RetranscribeRequest(BaseModel):
    language: str | None = Field(
        None,
        examples=["en"],
        description="the language to use (forced); omit or 'auto' to detect among your languages again, 'any' among all",
    )


class Health(BaseModel):
    status: str


class SegmentCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(..., ge=0, description="the segment's id, as in GET /transcripts/{id}")
    text: str = Field(..., max_length=5000, description="the corrected text of the whole segment")


MAX_SPEAKER_NAME = 40  # characters of a speaker's name (PATCH /transcripts/{id} `speakers`)


class TranscriptPatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    tags: list[str] | None = Field(None, max_length=20)
    segments: list[SegmentCorrection] | None = Field(None, max_length=2000)
    speakers: dict[str, str | None] | None = Field(
        None,
        max_length=50,
        description="names for speaker labels, e.g. {\"S1\": \"Ana\"} (labels of this transcript only; names 1-40 "
        "characters, no control characters); null drops a name. Downloads and exports print the names.",
        examples=[{"S1": "Ana", "S2": "Luis"}],
    )
    version: int | None = Field(
        None, ge=0, le=2**53,
        description="the `version` read; if the transcript changed since, nothing is written and the answer is 409 "
        "(also accepted as the `If-Match` header). Without it the change is merged into the latest version.",
    )

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, title: str | None) -> str | None:
        if title is not None and not clean_line(title):
            raise ValueError("the title cannot be blank")
        return clean_line(title) if title else title

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else clean_tags(tags)

    @field_validator("speakers")
    @classmethod
    def _speaker_names(cls, speakers: dict[str, str | None] | None) -> dict[str, str | None] | None:
        if speakers is None:
            return None
        cleaned: dict[str, str | None] = {}
        for label, name in speakers.items():
            if not 1 <= len(label) <= 20:
                raise ValueError("speaker labels are 1-20 characters (S1, S2, ...)")
            if name is not None:
                name = name.strip()
                if not 1 <= len(name) <= MAX_SPEAKER_NAME:
                    raise ValueError(f"the name for {label} must be 1-{MAX_SPEAKER_NAME} characters")
                if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in name):
                    raise ValueError(f"the name for {label} must not contain control characters or line breaks")
            cleaned[label] = name
        return cleaned


class ExportRequest(BaseModel):
    """`destination` plus per-delivery overrides of the saved integration settings."""

    model_config = ConfigDict(extra="forbid")

    destination: ExportDestination
    database_id: str | None = Field(None, max_length=100, description="Notion: database to add the page to")
    title_property: str | None = Field(None, max_length=100, description="Notion: the database's title property (default: title)")
    list_id: str | None = Field(None, max_length=100, description="Trello: list to add the card to")
    url: HttpUrl | None = Field(None, description="webhook: deliver to this URL instead of the saved one")


class NotionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(None, max_length=500, description="an internal integration secret (write-only)")
    database_id: str | None = Field(None, max_length=100)


class TrelloSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, max_length=200, description="API key (write-only)")
    token: str | None = Field(None, max_length=500, description="API token (write-only)")
    list_id: str | None = Field(None, max_length=100)


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl | None = None
    secret: str | None = Field(None, min_length=16, max_length=200, description="HMAC-SHA256 key (write-only)")


class IntegrationsPatch(BaseModel):
    """Fields left out keep their saved value; null clears one; an integration set to null is removed."""

    model_config = ConfigDict(extra="forbid")

    notion: NotionSettings | None = None
    trello: TrelloSettings | None = None
    webhook: WebhookSettings | None = None


class ApiKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=100, examples=["subtitulador"])


# Library responses ----------------------------------------------------------------------------





class TranscriptPage(BaseModel):
    items: list[TranscriptSummary]
    next_cursor: str | None = Field(..., description="pass as `cursor` for the next page; null on the last")




class NotionOut(BaseModel):
    database_id: str | None = None
    token_set: bool = False


class TrelloOut(BaseModel):
    list_id: str | None = None
    key_set: bool = False
    token_set: bool = False


class WebhookOut(BaseModel):
    url: str | None = None
    secret_set: bool = False


class IntegrationsOut(BaseModel):
    notion: NotionOut
    trello: TrelloOut
    webhook: WebhookOut


class UsageOut(BaseModel):
    month: str = Field(..., examples=["2026-11"])
    audio_seconds: float
    jobs: int
    quota_seconds: int | None = None
    remaining_seconds: float | None = Field(
        None, description="what a new job may still use: the quota less the month's usage and the seconds reserved"
    )
    reserved_seconds: float = Field(
        0.0, description="seconds held against the quota by jobs queued or running and by live sessions"
    )
    jobs_in_flight: int = Field(0, description="jobs queued or running and live sessions holding quota")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    created_at: str
    hint: str


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(..., description="the key itself: shown this once, store it now")


class LiveRequest(LiveOptions):
    """POST /live: the same options as a file job, plus the final pass."""


class LiveOut(BaseModel):
    live_id: str = Field(description="the session's id; also its transcript's id and job id")
    status: JobStatus
    quality_profile: QualityProfile
    final_pass: bool
    stream_url: str = Field(description="GET it for `partial`, `delta`, `progress`, `completed` / `error` events")
    max_seconds: int = Field(description="the session stops by itself after this much audio")
    idle_timeout_seconds: int = Field(description="the session stops by itself after this long without a frame")
    frame_max_bytes: int = Field(description="the largest frame POST /live/{id}/audio accepts")
    sample_rate: int = Field(16000, description="frames are PCM16 little-endian mono at this rate")


class LiveStopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frames: int | None = Field(
        None, ge=0, description="how many frames the client produced (seq 0..frames-1); the worker waits for late ones"
    )


class LiveStopOut(BaseModel):
    live_id: str
    status: JobStatus


class LiveCancelOut(BaseModel):
    live_id: str
    status: Literal["cancelled"] = Field(
        "cancelled", description="the session was discarded: no recording or transcript is kept"
    )


# Share links ------------------------------------------------------------------------------------


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_in_days: int = Field(7, ge=1, le=90, description="how many days the link opens (1-90)")


class ShareOut(BaseModel):
    """A share link as its owner sees it: never the token (only its hash is stored)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: str
    created_at: str
    expires_at: str


class NewShareOut(ShareOut):
    """A new share link: the only answer that carries its token."""

    token: str = Field(..., description="the link's secret; shown only now")
    path: str = Field(..., description="the web app's page for the link, e.g. /compartido/<token>")
    url: str = Field(..., description="`path` under the deployment's public URL (just `path` when none is set)")


class SharedWord(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    text: str
    t0: float
    t1: float
    speaker: str | None = None


class SharedSegment(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int
    t0: float
    t1: float
    text: str
    speaker: str | None = Field(None, description="the speaker's name (or label when unnamed)")
    words: list[SharedWord] = Field(default_factory=list)


class SharedTranscript(BaseModel):
    """What a share link shows, and nothing else of the account."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    title: str | None = None
    duration: float | None = None
    language: str | None = None
    text: str
    segments: list[SharedSegment]
    audio_url: str | None = Field(None, description="short-lived presigned GET of a copy of the audio")
    expires_at: str = Field(..., description="when the link stops opening")
