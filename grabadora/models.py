"""Domain models shared by the API, the worker and the relay."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def utc_now() -> str:
    """Now, as an ISO 8601 UTC timestamp."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class JobStatus(StrEnum):
    LIVE = "live"  # a live session still taking audio
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class QualityProfile(StrEnum):
    FAST = "fast"
    BALANCED = "balanced"
    PRECISE = "precise"


# The language codes Whisper knows (faster_whisper.tokenizer._LANGUAGE_CODES), kept here so the
# API can validate without importing the worker's dependencies.
WHISPER_LANGUAGES: frozenset[str] = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi "
    "hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no "
    "oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo "
    "zh yue".split()
)
# `language: "any"` asks for detection among all of Whisper's languages (not only the user's).
ANY_LANGUAGE = "any"
DEFAULT_LANGUAGES: tuple[str, ...] = ("es",)
LanguageSource = Literal["forced", "detected", "preferred_fallback"]


def clean_languages(languages: list[str]) -> list[str]:
    """Whisper language codes, lower-cased, in order, without repeats; `ValueError` for others."""
    cleaned: list[str] = []
    for code in languages:
        code = code.strip().lower()
        if code not in WHISPER_LANGUAGES:
            raise ValueError(f"'{code}' is not a language Whisper knows; use codes such as 'es' or 'en'")
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


# C0 and C1 controls (NUL, escapes, line breaks) and the bidi embeddings, overrides and
# isolates that can make a title read differently from what it holds ("Trojan Source").
_UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean_line(text: str) -> str:
    """One line of user text (a title, a tag) with control and bidi-control characters
    removed (line breaks and tabs become spaces), trimmed."""
    return _UNSAFE_CHARS.sub(lambda m: " " if m.group() in "\t\n\r" else "", text).strip()


def clean_tags(tags: list[str]) -> list[str]:
    """Tags cleaned (`clean_line`), blanks and repeats dropped, each at most 50 characters."""
    cleaned: list[str] = []
    for tag in tags:
        tag = clean_line(tag)
        if len(tag) > 50:
            raise ValueError("each tag must be at most 50 characters")
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned


SHA256_HEX = r"^[0-9a-f]{64}$"  # a SHA-256 digest as lowercase hex


class TranscribeOptions(BaseModel):
    """What a user may ask of one transcription; travels in the SQS message."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(
        None,
        description="a language code Whisper knows (es, en, ...) to force it; omit (or 'auto') to detect among "
        "the account's languages (GET /me/languages); 'any' to detect among all of Whisper's languages",
    )
    allowed_languages: list[str] | None = Field(
        None,
        max_length=20,
        description="with no language: detect only among these (the account's languages when omitted; "
        "empty: any language)",
    )
    profile: QualityProfile = QualityProfile.BALANCED
    title: str | None = Field(None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=20)
    diarization: bool = False
    min_speakers: int | None = Field(None, ge=1, le=20, description="with diarization: at least this many speakers")
    max_speakers: int | None = Field(None, ge=1, le=20, description="with diarization: at most this many speakers")
    word_timestamps: bool = True
    task: Literal["transcribe", "translate"] = Field(
        "transcribe", description="translate: speech in any language to English text, as Whisper offers it"
    )
    hotwords: str | None = Field(
        None, max_length=500, description="words to favour, space-separated (names, jargon: 'ComfyUI Grabadora')"
    )
    initial_prompt: str | None = Field(
        None, max_length=1000, description="text the model reads as if it came before the audio: spelling, style, vocabulary"
    )
    temperature: float | None = Field(
        None, ge=0, le=1, description="sampling temperature; omit for Whisper's fallback schedule (0 → 1 when decoding fails)"
    )

    @model_validator(mode="after")
    def _speaker_bounds(self) -> TranscribeOptions:
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ValueError("min_speakers must not be more than max_speakers")
        return self

    @field_validator("hotwords", "initial_prompt")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="before")
    @classmethod
    def _any_language(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("language"), str) and data["language"].strip().lower() == ANY_LANGUAGE:
            return {**data, "language": None, "allowed_languages": []}
        return data

    @field_validator("allowed_languages")
    @classmethod
    def _known_languages(cls, value: list[str] | None) -> list[str] | None:
        return clean_languages(value) if value is not None else None

    @field_validator("language", mode="before")
    @classmethod
    def _blank_language_is_auto(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value in ("", "auto"):
                return None
            if value not in WHISPER_LANGUAGES:
                raise ValueError(f"'{value}' is not a language Whisper knows; use a code such as 'es' or 'en', or omit it")
        return value

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str]) -> list[str]:
        return clean_tags(tags)

    @field_validator("title")
    @classmethod
    def _clean_title(cls, title: str | None) -> str | None:
        return (clean_line(title) or None) if title is not None else None


class JobMessage(BaseModel):
    """The SQS `jobs` message body."""

    job_id: str
    user_id: str
    audio_key: str
    options: TranscribeOptions


# `partial` (live sessions only) is the current tentative tail; each one replaces the last.
EventType = Literal["delta", "partial", "progress", "completed", "error"]
TERMINAL_EVENTS: frozenset[str] = frozenset({"completed", "error"})


class JobEvent(BaseModel):
    """One entry of a job's event log: what the SSE relay streams and IoT publishes."""

    job_id: str
    seq: int
    type: EventType
    data: dict[str, Any]


class LiveOptions(TranscribeOptions):
    """What a user may ask of one live session (POST /live)."""

    final_pass: bool | None = Field(
        None,
        description="after Stop, transcribe the whole recording again with the chosen profile (and speakers) "
        "and keep that; default: on for 'precise' and for diarization",
    )

    @property
    def wants_final_pass(self) -> bool:
        if self.final_pass is not None:
            return self.final_pass
        return self.profile is QualityProfile.PRECISE or self.diarization


class StopReason(StrEnum):
    USER = "user"  # POST /live/{id}/stop
    IDLE = "idle"  # no frame for the idle time
    MAX_SECONDS = "max_seconds"  # the session reached its length limit
    QUOTA = "quota"  # the monthly quota ran out during the session


class LiveMessage(BaseModel):
    """The SQS `live` message body: one worker claims the session and tails its frames."""

    kind: Literal["live"] = "live"
    job_id: str
    user_id: str
    audio_key: str  # where the whole recording is stored when the session ends
    options: LiveOptions
    max_seconds: int
    limit: StopReason = StopReason.MAX_SECONDS  # why max_seconds is what it is (length limit or quota left)
    idle_seconds: int

    def as_job(self) -> JobMessage:
        """The file-job view of the session (fail_job and friends need only ids and options)."""
        return JobMessage(job_id=self.job_id, user_id=self.user_id, audio_key=self.audio_key, options=self.options)


class Word(BaseModel):
    text: str
    t0: float
    t1: float
    probability: float | None = None
    speaker: str | None = None  # set when diarized


class Segment(BaseModel):
    id: int
    t0: float
    t1: float
    text: str
    words: list[Word] = Field(default_factory=list)
    speaker: str | None = None  # set when diarized
    # Decoder statistics, as faster-whisper reports them (quality checks, verbose_json).
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    temperature: float | None = None


class Transcript(BaseModel):
    """The document stored at `transcripts/{user_id}/{job_id}.json`."""

    job_id: str
    language: str | None
    language_probability: float | None = None
    language_source: LanguageSource | None = None  # None: written before languages were recorded
    language_unsure: bool = False
    duration: float
    quality_profile: QualityProfile
    model: str
    text: str
    segments: list[Segment]
    created_at: str = Field(default_factory=utc_now)




class ExportDestination(StrEnum):
    NOTION = "notion"
    TRELLO = "trello"
    WEBHOOK = "webhook"


class ExportStatus(StrEnum):
    QUEUED = "queued"
    DELIVERING = "delivering"  # at least one attempt made, a retry is scheduled
    DELIVERED = "delivered"
    FAILED = "failed"


class ExportDelivery(BaseModel):
    """One delivery of a transcript to a destination, kept on its transcript item."""

    destination: ExportDestination
    status: ExportStatus
    attempts: int = 0
    last_error: str | None = None
    url: str | None = Field(None, description="the page or card made, once delivered")
    created_at: str | None = None
    updated_at: str | None = None
    delivered_at: str | None = None
    # Where a multi-step delivery got to (e.g. the Notion page made before its blocks), so a
    # retry continues instead of repeating; internal, never shown.
    checkpoint: dict[str, Any] = Field(default_factory=dict, exclude=True)


class LiveLimits(BaseModel):
    """How a live session ends by itself, fixed when it starts."""

    max_seconds: int
    limit: StopReason = StopReason.MAX_SECONDS
    final_pass: bool = False


class TranscriptResults(BaseModel):
    """What a finished job adds to its item (the transcript itself is stored in S3)."""

    transcript_key: str
    language: str | None = None
    language_probability: float | None = None
    language_source: LanguageSource | None = None
    language_unsure: bool = False
    duration: float
    segment_count: int
    search_text: str
    preview: str
    speakers: list[str] = Field(default_factory=list)
    diarization_error: str | None = None
    warning: str | None = None  # e.g. a truncated file: less audio decoded than its header declares

    @property
    def usage(self) -> dict[str, float]:
        return {"audio_seconds": self.duration}


class TranscriptSummary(BaseModel):
    """A transcript as a listing shows it."""

    # Answers always carry every field, so the API's schema marks them required.
    model_config = ConfigDict(populate_by_name=True, json_schema_serialization_defaults_required=True)

    id: str = Field(validation_alias="transcript_id")
    status: JobStatus
    title: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    language_source: LanguageSource | None = Field(
        None, description="forced (asked for), detected, or preferred_fallback (detection unsure: the first of the account's languages)"
    )
    language_unsure: bool = Field(False, description="the language detection was unsure: offer to transcribe again in another language")
    quality_profile: QualityProfile | None = None
    duration: float | None = None
    progress: float | None = None
    error: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    preview: str | None = Field(None, description="the start of the (corrected) text")
    edited_at: str | None = None
    source_sha256: str | None = Field(
        None, description="SHA-256 (hex) of the file transcribed, when known: the web app warns before the same file is sent again"
    )

    @classmethod
    def stored_fields(cls) -> tuple[str, ...]:
        """The item attributes a listing reads (its projection)."""
        return tuple("transcript_id" if name == "id" else name for name in cls.model_fields)


class TranscriptItem(BaseModel):
    """A transcript's item in the `transcripts` table: the job (or live session) and, once it is
    completed, its results. This is the one list of a transcript's fields: the table adapter
    converts items to and from it, and the API's views are made from it."""

    user_id: str
    transcript_id: str
    status: JobStatus
    title: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    language_probability: float | None = None
    language_source: LanguageSource | None = None
    language_unsure: bool = False
    quality_profile: QualityProfile | None = None
    options: dict[str, Any] = Field(default_factory=dict)  # the TranscribeOptions / LiveOptions asked for
    audio_key: str | None = None
    source: Literal["file", "live"] = "file"
    # SHA-256 of the file's bytes: computed here for a file sent along, declared by the client
    # for a presigned upload (the API never reads those bytes); only a hint for its owner.
    source_sha256: str | None = None
    live: LiveLimits | None = None
    progress: float = 0
    attempts: int = 0
    error: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # Set when the job completes (TranscriptResults).
    transcript_key: str | None = None
    duration: float | None = None
    usage: dict[str, float] | None = None
    segment_count: int | None = None
    search_text: str | None = None
    preview: str | None = None
    speakers: list[str] = Field(default_factory=list)
    diarization_error: str | None = None
    warning: str | None = None
    # The user's edits: corrected segment texts by segment id, and the optimistic-lock version.
    corrections: dict[str, str] = Field(default_factory=dict)
    speaker_names: dict[str, str] = Field(default_factory=dict)  # the user's names for speaker labels: {"S1": "Ana"}
    edited_at: str | None = None
    version: int = 0
    exports: dict[str, ExportDelivery] = Field(default_factory=dict)
    # Live sessions: a stop asked for (and after how many frames), and why the session ended.
    stop_requested: str | None = None
    frames_total: int | None = None
    stop_reason: StopReason | None = None

    @property
    def is_completed(self) -> bool:
        return self.status is JobStatus.COMPLETED and self.transcript_key is not None

    def corrections_by_segment(self) -> dict[int, str]:
        return {int(k): v for k, v in self.corrections.items()}


class TranscriptSegment(Segment):
    """A segment as the library shows it: the user's correction applied."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    words: list[Word] | None = Field(None, description="word timings; null with ?words=false")
    edited: bool = False


class ExportRecord(ExportDelivery):
    """A delivery as the transcript's owner sees it."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: str


class TranscriptDetail(TranscriptSummary):
    """One transcript: its item's public fields, a presigned audio URL, and (once completed) its
    corrected text and segments."""

    options: dict[str, Any] | None = None
    attempts: int | None = None
    usage: dict[str, float] | None = None
    source: Literal["file", "live"] = "file"
    stop_reason: StopReason | None = Field(None, description="live sessions: why the session ended")
    audio_url: str | None = Field(None, description="presigned GET of the original audio")
    text: str | None = None
    segments: list[TranscriptSegment] = Field(default_factory=list)
    exports: list[ExportRecord] = Field(default_factory=list)
    language_probability: float | None = None
    model: str | None = None
    speakers: list[str] = Field(default_factory=list, description="speaker labels (S1, S2, ...) when diarized")
    speaker_names: dict[str, str] = Field(
        default_factory=dict,
        description="the names given to speaker labels ({\"S1\": \"Ana\"}); segments keep their labels, downloads "
        "and exports print the names",
    )
    diarization_error: str | None = Field(None, description="why a diarized job came out without speakers")
    warning: str | None = Field(
        None, description="something the user should know about a completed transcript, e.g. that the file was cut short"
    )
    version: int = Field(0, description="bumped by every PATCH; send it back with the next PATCH to detect lost updates")

    @classmethod
    def of(cls, item: TranscriptItem, *, audio_url: str | None, document: dict[str, Any] | None) -> TranscriptDetail:
        """The view of `item`, with its stored (corrected) transcript `document` once completed."""
        found = {
            "text": document["text"],
            "segments": document["segments"],
            "language_probability": document.get("language_probability", item.language_probability),
            "model": document.get("model"),
        } if document is not None else {}
        exports = [ExportRecord(id=export_id, **delivery.model_dump()) for export_id, delivery in sorted(item.exports.items())]
        return cls.model_validate({**item.model_dump(), "audio_url": audio_url, "exports": exports, **found})


class ExportMessage(BaseModel):
    """The SQS `exports` message body: one delivery of one transcript to one destination."""

    export_id: str
    user_id: str
    transcript_id: str
    destination: ExportDestination
    # Per-request overrides, e.g. {"database_id": ...} for Notion, {"list_id": ...} for Trello,
    # {"url": ...} for a webhook; secrets never travel in messages.
    options: dict[str, Any] = Field(default_factory=dict)
