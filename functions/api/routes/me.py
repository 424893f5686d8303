"""The signed-in user's own settings and usage."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool

from functions.common.deps import ApiKeysDep, ApiSettingsDep, CurrentUser, LibraryDep, SettingsDep, UserStateDep, UsersDep
from functions.api.schemas import (
    ApiKeyOut, ApiKeyRequest, IntegrationsOut, IntegrationsPatch, LanguagesBody, NewApiKeyOut, UsageOut,
)
from grabadora.services import accounts, api_keys, library

router = APIRouter(prefix="/me", tags=["me"])


@router.get("")
def whoami(user: CurrentUser) -> dict:
    return {"id": user.user_id, "email": user.email}


@router.get("/languages", response_model=LanguagesBody)
async def get_languages(user: CurrentUser, user_state: UserStateDep) -> dict:
    """The languages the account's owner speaks, preferred first: a job with no language is
    detected among them, and falls back to the first when detection is unsure."""
    return {"languages": await run_in_threadpool(accounts.user_languages, user_state, user.user_id)}


@router.put("/languages", response_model=LanguagesBody)
async def put_languages(body: LanguagesBody, user: CurrentUser, user_state: UserStateDep) -> dict:
    """Replace the account's languages (Whisper codes such as 'es', 'en'; the preferred first)."""
    return {"languages": await run_in_threadpool(accounts.set_user_languages, user_state, user.user_id, body.languages)}


@router.post("/sign-out-everywhere", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out_everywhere(user: CurrentUser, user_state: UserStateDep) -> Response:
    """End every session of this account: every access and stream token issued so far is
    refused from now on (this one too). API keys stay valid; revoke them one by one."""
    await run_in_threadpool(accounts.sign_out_everywhere, user_state, user.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(user: CurrentUser, users: UsersDep, user_state: UserStateDep, ports: LibraryDep) -> Response:
    """Delete the account and everything it owns: transcripts, audio, API keys, settings. Its
    tokens, stream tokens and keys stop working at once. Cannot be undone."""
    await run_in_threadpool(accounts.delete_account, users, user_state, ports, user.user_id, user.email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/integrations", response_model=IntegrationsOut)
async def get_integrations(user: CurrentUser, ports: LibraryDep) -> dict:
    """Notion, Trello and webhook settings; secrets show only as `<name>_set: true|false`."""
    return await run_in_threadpool(library.public_integrations, ports, user.user_id)


@router.put("/integrations", response_model=IntegrationsOut)
async def put_integrations(body: IntegrationsPatch, user: CurrentUser, ports: LibraryDep, settings: ApiSettingsDep) -> dict:
    """Save settings; secrets are stored encrypted and never returned. A webhook URL that
    could never be delivered to (a private or loopback address) is a 422."""
    # exclude_unset keeps "left out" (keep) apart from an explicit null (clear).
    changes = body.model_dump(mode="json", exclude_unset=True)
    return await run_in_threadpool(
        partial(library.put_integrations, webhook_allow_private=settings.webhook_allow_private), ports, user.user_id, changes
    )


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
