"""Request and response bodies of the public API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from grabadora.models import TranscribeOptions


class SignupRequest(BaseModel):
    email: str = Field(..., max_length=254, examples=["ana@example.com"])
    password: str = Field(..., min_length=8, max_length=256)


class UserOut(BaseModel):
    id: str
    email: str


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


class JobOut(BaseModel):
    job_id: str
    status: str
    quality_profile: str
    stream_url: str


class Health(BaseModel):
    status: str
