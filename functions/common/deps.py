"""Typed dependencies of both HTTP apps (API and relay): settings, adapters and the signed-in user."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from grabadora import auth
from grabadora.adapters.events_table import EventsTable
from grabadora.adapters.queues import ExportQueue, JobQueue
from grabadora.adapters.live_frames import LiveFramesTable
from grabadora.adapters.login_throttle import LoginThrottle
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.shares import SharesTable
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import ApiKeysTable, UserStateTable
from grabadora.adapters.users_table import UsersTable
from grabadora.adapters.worker_service import WorkerNudge, worker_nudge
from grabadora.errors import Unauthorized
from grabadora.services import accounts, api_keys
from grabadora.services.jobs import Ports
from grabadora.services.library import LibraryPorts
from grabadora.services.live import LivePorts
from grabadora.services.shares import SharePorts
from pydantic import SecretStr

from grabadora.settings import ApiSettings, IntakeSettings, IntegrationSettings, TokenSettings, get_settings, settings_as

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)



def intake_settings() -> IntakeSettings:
    """What both HTTP apps read (the process's `ApiSettings`, `RelaySettings` or `DevSettings`)."""
    return settings_as(IntakeSettings)


def api_settings() -> ApiSettings:
    """The API's own settings (integrations), for routes only the API serves."""
    return settings_as(ApiSettings)


def _secrets_key() -> SecretStr | None:
    """The key for users' integration secrets, in the processes that have one (not the relay)."""
    settings = get_settings()
    return settings.secrets_key if isinstance(settings, IntegrationSettings) else None


SettingsDep = Annotated[IntakeSettings, Depends(intake_settings)]
ApiSettingsDep = Annotated[ApiSettings, Depends(api_settings)]


@lru_cache
def get_users() -> UsersTable:
    return UsersTable()


@lru_cache
def get_worker_nudge() -> WorkerNudge:
    """The worker service's nudge on AWS (GRABADORA_WORKER_CLUSTER/_SERVICE); none locally."""
    return worker_nudge(intake_settings())


@lru_cache
def get_ports() -> Ports:
    return Ports(
        store=ObjectStore(), transcripts=TranscriptsTable(), queue=JobQueue(), user_state=UserStateTable(secrets_key=_secrets_key()),
        worker=get_worker_nudge(),
    )


@lru_cache
def get_library_ports() -> LibraryPorts:
    settings = get_settings()
    return LibraryPorts(
        store=ObjectStore(),
        transcripts=TranscriptsTable(),
        events=EventsTable(),
        user_state=UserStateTable(secrets_key=_secrets_key()),
        exports=ExportQueue(settings.exports_queue),
        shares=SharesTable(),
    )


@lru_cache
def get_live_ports() -> LivePorts:
    return LivePorts(
        transcripts=TranscriptsTable(),
        frames=LiveFramesTable(),
        queue=JobQueue(get_settings().live_queue),
        user_state=UserStateTable(secrets_key=_secrets_key()),
        store=ObjectStore(),
        events=EventsTable(),
        shares=SharesTable(),
        worker=get_worker_nudge(),
    )


@lru_cache
def get_share_ports() -> SharePorts:
    return SharePorts(
        shares=SharesTable(), transcripts=TranscriptsTable(), store=ObjectStore(), user_state=UserStateTable(secrets_key=_secrets_key()),
        throttle=LoginThrottle(),
    )


@lru_cache
def get_api_keys() -> ApiKeysTable:
    return ApiKeysTable()


@lru_cache
def get_login_throttle() -> LoginThrottle:
    return LoginThrottle()


@lru_cache
def get_user_state() -> UserStateTable:
    return UserStateTable(secrets_key=_secrets_key())


UsersDep = Annotated[UsersTable, Depends(get_users)]
ThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
ApiKeysDep = Annotated[ApiKeysTable, Depends(get_api_keys)]
UserStateDep = Annotated[UserStateTable, Depends(get_user_state)]
PortsDep = Annotated[Ports, Depends(get_ports)]
LibraryDep = Annotated[LibraryPorts, Depends(get_library_ports)]
LivePortsDep = Annotated[LivePorts, Depends(get_live_ports)]
SharePortsDep = Annotated[SharePorts, Depends(get_share_ports)]


def authenticate_token(settings: TokenSettings, user_state: UserStateTable, token: str) -> auth.TokenClaims:
    """A verified token (access or stream) of an account that exists and did not revoke it.

    The account check reads DynamoDB once per request; nothing is cached across requests, so
    a sign-out everywhere or a deleted account takes effect at once on every Lambda.
    """
    claims = auth.decode_token(settings, token)
    return accounts.check_session(user_state, claims)


def get_current_user(
    settings: SettingsDep, user_state: UserStateDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> auth.TokenClaims:
    """The caller, from an access token; stream tokens do not open the API."""
    if not token:
        raise Unauthorized("not signed in: send 'Authorization: Bearer <token>'")
    claims = auth.decode_token(settings, token)
    if claims.job_id is not None:
        raise Unauthorized("invalid token")
    return accounts.check_session(user_state, claims)


CurrentUser = Annotated[auth.TokenClaims, Depends(get_current_user)]


def get_api_caller(
    settings: SettingsDep,
    keys: ApiKeysDep,
    user_state: UserStateDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> auth.TokenClaims:
    """The caller of the integrator routes: an API key (`gr_…`) or an access token."""
    if token and api_keys.looks_like_api_key(token):
        claims = auth.TokenClaims(user_id=api_keys.authenticate(keys, token), email=None, job_id=None)
        return accounts.check_session(user_state, claims)
    return get_current_user(settings, user_state, token)


ApiCaller = Annotated[auth.TokenClaims, Depends(get_api_caller)]


def reset_dependencies() -> None:
    """Forget the adapters built from earlier settings (tests that switch endpoints or names)."""
    for value in list(globals().values()):
        # Every cached provider of this module (a new one cannot be forgotten here).
        if getattr(value, "__module__", None) == __name__ and hasattr(value, "cache_clear"):
            value.cache_clear()
