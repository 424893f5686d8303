"""OpenAI's speech-to-text protocol over Grabadora's jobs: what its fields mean here, what its
answers and stream events look like. No HTTP: `functions/common/openai_routes.py` is the router
that serves it (on AWS in the stream function, locally with the rest of the API).

Mapping of OpenAI's fields:
- `model`: `whisper-1` (or anything else) runs the deployment's model with the balanced
  profile; `grabadora-fast|balanced|precise` pick a profile.
- `prompt` → `initial_prompt`; `language`, `temperature` as they are (no `language`: detected among
  the account's languages, GET /me/languages; `language=any`: among all);
  `timestamp_granularities[]` = `word` adds `words` to `verbose_json`.
- `response_format`: json | text | srt | verbose_json | vtt. `verbose_json` adds `language_code`,
  `language_probability`, `language_source` (forced | detected | preferred_fallback) and
  `language_unsure`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from grabadora.errors import GrabadoraError
from grabadora.http_errors import STATUS_BY_ERROR
from grabadora.languages import language_name
from grabadora.models import JobEvent, QualityProfile, TranscribeOptions
from grabadora.services import library
from grabadora.services.library import LibraryPorts

RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
MODELS = ("whisper-1", "grabadora-fast", "grabadora-balanced", "grabadora-precise")
DONE = "data: [DONE]\n\n"


class OpenAIError(Exception):
    """An error as OpenAI's API reports it: a status and `{"error": {message, type, param, code}}`."""

    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.kind = status, message, param, kind

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": None}}

    @classmethod
    def from_grabadora(cls, error: GrabadoraError) -> OpenAIError:
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(error, t)), 500)
        kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}.get(
            status, "invalid_request_error" if status < 500 else "server_error"
        )
        return cls(status, error.detail, kind=kind)


def model_list() -> dict[str, Any]:
    """GET /v1/models: the model names these routes accept."""
    return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "grabadora"} for m in MODELS]}


class Form(Protocol):
    """The request's form fields (a multipart form: starlette's FormData)."""

    def get(self, key: str) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


@dataclass(frozen=True)
class Request:
    """What an OpenAI transcription or translation request asks of a job, and of the answer."""

    options: TranscribeOptions
    response_format: str
    words: bool  # timestamp_granularities[] has "word"
    stream: bool


def _text_field(form: Form, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_request(form: Form, task: str) -> Request:
    """OpenAI's fields as Grabadora's options; `OpenAIError` (400) naming the field that is wrong."""
    fmt = _text_field(form, "response_format") or "json"
    if fmt not in RESPONSE_FORMATS:
        raise OpenAIError(400, f"response_format: must be one of {', '.join(RESPONSE_FORMATS)}", param="response_format")
    model = _text_field(form, "model")
    if model is None:
        raise OpenAIError(400, "model: required (for example 'whisper-1')", param="model")
    wanted = model.removeprefix("grabadora-")
    profile = wanted if wanted in {p.value for p in QualityProfile} else QualityProfile.BALANCED.value
    granularities = [g for key in ("timestamp_granularities[]", "timestamp_granularities") for g in form.getlist(key)]
    if set(granularities) - {"word", "segment"}:
        raise OpenAIError(400, "timestamp_granularities[]: 'word' and/or 'segment'", param="timestamp_granularities")
    stream = (_text_field(form, "stream") or "false").lower() in ("true", "1")
    if stream and fmt not in ("json", "text"):
        raise OpenAIError(400, "stream: only with response_format json or text", param="stream")
    fields: dict[str, Any] = {"profile": profile, "task": task, "word_timestamps": True}
    for source, target in (("language", "language"), ("prompt", "initial_prompt"), ("temperature", "temperature")):
        if (value := _text_field(form, source)) is not None:
            fields[target] = value
    if task == "translate":
        fields.pop("language", None)  # OpenAI's translations take no language; the speech's is detected
    try:
        options = TranscribeOptions.model_validate(fields)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        param = {"initial_prompt": "prompt"}.get(str(first["loc"][0]), str(first["loc"][0]))
        raise OpenAIError(400, f"{param}: {first['msg']}", param=param) from None
    return Request(options, fmt, "word" in granularities, stream)


def sse_for(event: JobEvent, text: list[str]) -> str | None:
    """The OpenAI stream event for one job event (None: nothing to send); `text` collects the deltas."""
    if event.type == "delta":
        piece = event.data["text"] if text else event.data["text"].lstrip()
        text.append(piece)
        return _data({"type": "transcript.text.delta", "delta": piece, "logprobs": None})
    if event.type == "completed":
        seconds = math.ceil(event.data.get("duration") or 0)
        return _data(
            {"type": "transcript.text.done", "text": "".join(text).strip(), "logprobs": None,
             "usage": {"type": "duration", "seconds": seconds}}
        )
    if event.type == "error":
        return _data({"error": {"message": event.data.get("detail") or "the job failed", "type": "invalid_request_error"}})
    return None


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


@dataclass(frozen=True)
class Answer:
    """A finished job's answer: a JSON document (`body` a dict) or text in `media_type`."""

    body: dict[str, Any] | str | bytes
    media_type: str = "application/json"


def answer(ports: LibraryPorts, user_id: str, job_id: str, request: Request, task: str) -> Answer:
    """The completed job in the response format the request asked for."""
    transcript = library.get_transcript(ports, user_id, job_id)
    text = transcript.text or ""
    fmt = request.response_format
    if fmt == "text":
        return Answer(text + "\n", "text/plain")
    if fmt in ("srt", "vtt"):
        rendered = library.download(ports, user_id, job_id, fmt)
        return Answer(rendered.content, rendered.media_type)
    usage = {"type": "duration", "seconds": math.ceil(transcript.duration or 0)}
    if fmt == "json":
        return Answer({"text": text, "usage": usage})
    verbose: dict[str, Any] = {
        "task": task,
        "language": language_name(transcript.language),
        "duration": transcript.duration,
        "text": text,
        # Grabadora's additions (OpenAI clients ignore unknown fields): how the language was decided.
        "language_code": transcript.language,
        "language_probability": transcript.language_probability,
        "language_source": transcript.language_source,
        "language_unsure": transcript.language_unsure,
        "segments": [
            {
                "id": s.id, "seek": 0, "start": s.t0, "end": s.t1, "text": s.text, "tokens": [],
                "temperature": s.temperature or 0.0, "avg_logprob": s.avg_logprob or 0.0,
                "compression_ratio": s.compression_ratio or 0.0, "no_speech_prob": s.no_speech_prob or 0.0,
            }
            for s in transcript.segments
        ],
        "usage": usage,
    }
    if request.words:
        verbose["words"] = [
            {"word": w.text.strip(), "start": w.t0, "end": w.t1} for s in transcript.segments for w in s.words or []
        ]
    return Answer(verbose)
