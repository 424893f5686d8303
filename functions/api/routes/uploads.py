"""Presigned uploads: large files go straight to S3, never through Lambda."""

from __future__ import annotations

from fastapi import APIRouter

from functions.common.deps import CurrentUser, PortsDep, SettingsDep
from functions.api.schemas import UploadOut, UploadRequest
from grabadora.services import jobs

router = APIRouter(tags=["uploads"])


@router.post("/uploads", status_code=201, response_model=UploadOut)
def create_upload(body: UploadRequest, user: CurrentUser, ports: PortsDep, settings: SettingsDep) -> dict:
    """A presigned PUT for one audio or video file of exactly `size` bytes."""
    return jobs.create_upload(ports, settings, user.user_id, body.filename, body.content_type, body.size)
