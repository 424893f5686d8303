"""The signed-in user's own settings and usage."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool

from functions.common.deps import ApiKeysDep, CurrentUser, LibraryDep, SettingsDep
from functions.api.schemas import ApiKeyOut, ApiKeyRequest, IntegrationsOut, IntegrationsPatch, NewApiKeyOut, UsageOut
from grabadora.services import api_keys, library

router = APIRouter(prefix="/me", tags=["me"])


@router.get("")
def whoami(user: CurrentUser) -> dict:
    return {"id": user.user_id, "email": user.email}


@router.get("/integrations", response_model=IntegrationsOut)
async def get_integrations(user: CurrentUser, ports: LibraryDep) -> dict:
    """Notion, Trello and webhook settings; secrets show only as `<name>_set: true|false`."""
    return await run_in_threadpool(library.public_integrations, ports, user.user_id)


@router.put("/integrations", response_model=IntegrationsOut)
async def put_integrations(body: IntegrationsPatch, user: CurrentUser, ports: LibraryDep) -> dict:
    """Save settings; secrets are stored encrypted and never returned."""
    # exclude_unset keeps "left out" (keep) apart from an explicit null (clear).
    changes = body.model_dump(mode="json", exclude_unset=True)
    return await run_in_threadpool(library.put_integrations, ports, user.user_id, changes)


@router.get("/usage", response_model=UsageOut)
async def get_usage(user: CurrentUser, ports: LibraryDep, settings: SettingsDep) -> dict:
    """Audio seconds transcribed this month (UTC) and the monthly quota, if any."""
    return await run_in_threadpool(library.usage, ports, settings, user.user_id)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=NewApiKeyOut)
async def create_api_key(body: ApiKeyRequest, user: CurrentUser, keys: ApiKeysDep) -> dict:
    """A key for integrators and OpenAI clients (`Authorization: Bearer <key>`). `key` is shown only now."""
    return await run_in_threadpool(api_keys.create, keys, user.user_id, body.name)


@router.get("/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(user: CurrentUser, keys: ApiKeysDep) -> list[dict]:
    """The account's keys: names, ids, creation dates and a hint; never the keys themselves."""
    return await run_in_threadpool(api_keys.list_keys, keys, user.user_id)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: str, user: CurrentUser, keys: ApiKeysDep) -> Response:
    """Revoke a key at once."""
    await run_in_threadpool(api_keys.revoke, keys, user.user_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
