"""The signed-in user's own settings and usage."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from functions.api.deps import CurrentUser, LibraryDep, SettingsDep
from functions.api.schemas import IntegrationsPatch
from grabadora.services import library

router = APIRouter(prefix="/me", tags=["me"])


@router.get("")
def whoami(user: CurrentUser) -> dict:
    return {"id": user.user_id, "email": user.email}


@router.get("/integrations")
async def get_integrations(user: CurrentUser, ports: LibraryDep) -> dict:
    """Notion, Trello and webhook settings; secrets show only as `<name>_set: true|false`."""
    return await run_in_threadpool(library.public_integrations, ports, user.user_id)


@router.put("/integrations")
async def put_integrations(body: IntegrationsPatch, user: CurrentUser, ports: LibraryDep) -> dict:
    """Save settings; secrets are stored encrypted and never returned."""
    # exclude_unset keeps "left out" (keep) apart from an explicit null (clear).
    changes = body.model_dump(mode="json", exclude_unset=True)
    return await run_in_threadpool(library.put_integrations, ports, user.user_id, changes)


@router.get("/usage")
async def get_usage(user: CurrentUser, ports: LibraryDep, settings: SettingsDep) -> dict:
    """Audio seconds transcribed this month (UTC) and the monthly quota, if any."""
    return await run_in_threadpool(library.usage, ports, settings, user.user_id)
