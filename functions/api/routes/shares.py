"""Share links: the owner's routes under /transcripts/{id}/shares, and the public GET /shared/{token}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from functions.api.schemas import NewShareOut, SharedTranscript, ShareOut, ShareRequest
from functions.common.deps import CurrentUser, SettingsDep, SharePortsDep
from grabadora.services import shares

router = APIRouter(prefix="/transcripts/{transcript_id}/shares", tags=["shares"])
public_router = APIRouter(prefix="/shared", tags=["shares"])

NOT_FOUND = {404: {"description": "No such transcript (or link) for this user"}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=NewShareOut,
    responses={**NOT_FOUND, 409: {"description": "Not completed yet, or too many links"}},
)
async def create_share(
    transcript_id: str, user: CurrentUser, ports: SharePortsDep, settings: SettingsDep, body: ShareRequest | None = None
) -> dict:
    """A read-only public link to this transcript (player and text) that expires after
    `expires_in_days` (7 by default). Its `token` is shown only in this answer."""
    days = (body or ShareRequest()).expires_in_days
    return await run_in_threadpool(shares.create, ports, settings, user.user_id, transcript_id, days)


@router.get("", response_model=list[ShareOut], responses=NOT_FOUND)
async def list_shares(transcript_id: str, user: CurrentUser, ports: SharePortsDep) -> list[dict]:
    """The transcript's links that still open, oldest first (expired ones are removed)."""
    return await run_in_threadpool(shares.list_links, ports, user.user_id, transcript_id)


@router.delete("/{share_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def revoke_share(transcript_id: str, share_id: str, user: CurrentUser, ports: SharePortsDep) -> Response:
    """The link stops opening at once."""
    await run_in_threadpool(shares.revoke, ports, user.user_id, transcript_id, share_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@public_router.get(
    "/{token}",
    response_model=SharedTranscript,
    responses={
        404: {"description": "The link does not exist, expired or was revoked (always the same answer)"},
        429: {"description": "Too many links that do not open from this address (see Retry-After)"},
    },
)
async def open_shared(
    token: Annotated[str, Path(max_length=100)], request: Request, ports: SharePortsDep, settings: SettingsDep, response: Response
) -> dict:
    """A shared transcript, without signing in: title, duration, language, text, segments with
    word timings and a short-lived audio URL. Nothing else of its account."""
    client_ip = request.client.host if request.client else None
    view = await run_in_threadpool(shares.open_link, ports, settings, token, client_ip)
    response.headers["Cache-Control"] = "no-store"
    return view
