"""The user's transcripts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from functions.api.deps import CurrentUser, PortsDep
from grabadora.services import library

router = APIRouter(prefix="/transcripts", tags=["transcripts"])


@router.get("/{transcript_id}", responses={404: {"description": "No such transcript for this user"}})
def get_transcript(
    transcript_id: str,
    user: CurrentUser,
    ports: PortsDep,
    words: Annotated[bool, Query(description="include word timings in each segment")] = True,
) -> dict:
    """Metadata, segments (once completed) and a presigned URL of the audio."""
    result = library.get_transcript(ports.store, ports.transcripts, user.user_id, transcript_id)
    if not words:
        for segment in result["segments"]:
            segment.pop("words", None)
    return result
