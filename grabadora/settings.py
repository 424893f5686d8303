"""Typed settings: one class per deployable, built once per process from `GRABADORA_*` variables.

Each deployable reads only what it uses, and its class says so:

| process | class | keys it needs outside the dev stage |
|---|---|---|
| API Lambda (`functions/api/app.py:served_app`) | `ApiSettings` | JWT key, secrets key |
| SSE relay Lambda (`functions/stream/app.py:served_app`) | `RelaySettings` | JWT key |
| exporter Lambda (`functions/exporter/handler.py`) | `ExporterSettings` | secrets key |
| GPU worker (`python -m gpu_container`) | `WorkerSettings` | none |
| `grabadora dev` (all four in one process) | `DevSettings` | both |

The classes share groups of fields: `CommonSettings` (where AWS is and what the stage's
resources are named: every process), `UsageSettings` (quotas and fair turns: whoever queues
or ends a job), `TokenSettings` (the JWT key) and `IntegrationSettings` (the key that encrypts users'
integration secrets, and deployment-wide integration defaults), each refusing its built-in
development key outside the dev stage, `IntakeSettings` (what both HTTP apps
serve: sign-in, uploads, submits, live frames, shares, `/v1`). A field lives in the one group
whose code reads it; `.env.example` lists them all with their defaults, each under its
class's section. To add a setting: declare it in the group whose code reads it and list it in
that section (tests/unit/test_settings_secrets.py checks both).

A deployed process is configured by its environment: its entry point names its class with
`serve_as` and the environment is read on first use. A process that starts others in itself
(`grabadora dev`, the worker's `__main__`) builds the object and installs it with
`use_settings`; nothing writes the environment. Code reads the process's object with
`get_settings()` (the common fields) or `settings_as(Kind)` (a deployable's own fields).
"""

from __future__ import annotations

import threading
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The built-in development keys: they exist only so `grabadora dev` runs out of the box, and
# are refused outside the dev stage.
_DEV_JWT_KEY = "grabadora-dev-only-secret-change-me-0123456789"
_DEV_SECRETS_KEY = "Z3JhYmFkb3JhLWRldi1vbmx5LXNlY3JldHMta2V5ISE="


class CommonSettings(BaseSettings):
    """What every process reads: the AWS endpoint, the stage, and the resources' names."""

    model_config = SettingsConfigDict(env_prefix="GRABADORA_", env_file=".env", extra="ignore")

    # AWS: an endpoint URL selects the emulator or LocalStack; unset means real AWS.
    aws_endpoint_url: str | None = None
    # S3 alone elsewhere (e.g. MinIO beside LocalStack); defaults to aws_endpoint_url.
    s3_endpoint_url: str | None = None
    region: str = "us-east-1"
    stage: str = "dev"
    # On AWS, the account's IoT data endpoint (`aws iot describe-endpoint --endpoint-type
    # iot:Data-ATS`); with an emulator endpoint URL that one is used instead.
    iot_endpoint: str | None = None

    users_table: str = "grabadora-users"
    transcripts_table: str = "grabadora-transcripts"
    events_table: str = "grabadora-events"
    jobs_queue: str = "grabadora-jobs"
    exports_queue: str = "grabadora-exports"
    user_state_table: str = "grabadora-user-state"
    live_frames_table: str = "grabadora-live-frames"
    live_queue: str = "grabadora-live"
    bucket: str = "grabadora-data"
    # The jobs and live queues' shape (CDK and the emulator build them from these; the worker
    # renews a job's visibility within it and counts its receives against the dead-letter limit).
    visibility_timeout_seconds: int = Field(120, gt=0)
    max_receives: int = Field(3, gt=0)
    # How long items written by any process live: job events, and an abandoned session's frames.
    events_ttl_days: int = Field(30, gt=0)
    live_frames_ttl_hours: int = Field(48, gt=0)

    # Metrics (grabadora/metrics.py): with a CloudWatch namespace (set on AWS) the business
    # figures go out as embedded-metric-format lines on stdout; unset, they are Prometheus series
    # at the local stack's GET /metrics.
    metrics_namespace: str | None = None
    # On AWS the keys are not in the environment: `*_secret_arn` / `*_key_arn` name Secrets
    # Manager secrets (ARN or name; a JSON secret's "key" field, or the plain string) read once
    # per container through Powertools' parameters utility, cached this long.
    secrets_max_age_seconds: int = Field(300, gt=0)


class UsageSettings(CommonSettings):
    """Quotas and fair turns: read where a job is queued (API, `/v1`) and where one ends (worker)."""

    # Audio seconds a user may transcribe per calendar month (UTC); 0 = unlimited.
    monthly_quota_seconds: int = Field(0, ge=0)
    # Queued, running and live jobs one user may have at once (0: no limit); a submit past it is a 429.
    max_jobs_in_flight: int = Field(10, ge=0)
    # Fair turns: a user's file jobs in the jobs queue or running at once; the rest wait, held,
    # and are queued as that user's earlier ones end (0: every job queued at submit). One per
    # worker at most: locally one worker, so 1; on AWS (SQS fair queues) the fleet's size.
    jobs_queued_per_user: int = Field(1, ge=0)


class TokenSettings(CommonSettings):
    """The JWT key and token lifetimes: for processes that sign or check tokens (API, relay)."""

    jwt_secret_key: SecretStr = SecretStr(_DEV_JWT_KEY)
    jwt_secret_arn: str | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_minutes: int = Field(60 * 12, gt=0)
    stream_token_minutes: int = Field(60 * 6, gt=0)

    @model_validator(mode="after")
    def _jwt_key(self) -> TokenSettings:
        """The key from Secrets Manager when its secret is named; never the dev key outside dev."""
        if self.jwt_secret_arn:
            self.jwt_secret_key = SecretStr(_read_secret(self, self.jwt_secret_arn))
        _refuse_dev_key(self, "jwt_secret_key", _DEV_JWT_KEY)
        return self


class IntegrationSettings(CommonSettings):
    """Users' integrations: the key their secrets are encrypted with at rest, and deployment-wide
    defaults. The API checks and stores them, the exporter decrypts them and delivers.

    Per-user settings (PUT /me/integrations) win over these defaults.
    """

    # Fernet key (urlsafe base64, 32 bytes).
    secrets_key: SecretStr = SecretStr(_DEV_SECRETS_KEY)
    secrets_key_arn: str | None = None
    notion_token: SecretStr | None = None
    trello_key: SecretStr | None = None
    trello_token: SecretStr | None = None
    # Deliver webhooks to loopback/private addresses (tests, LANs): the API checks a webhook's
    # address when it is saved, the exporter again when it delivers.
    webhook_allow_private: bool = False

    @model_validator(mode="after")
    def _fernet_key(self) -> IntegrationSettings:
        if self.secrets_key_arn:
            key = _read_secret(self, self.secrets_key_arn)
            # CDK generates 43 URL-safe characters; Fernet wants the 32-byte key's base64 padding.
            self.secrets_key = SecretStr(key + "=" * (-len(key) % 4))
        _refuse_dev_key(self, "secrets_key", _DEV_SECRETS_KEY)
        return self


class IntakeSettings(TokenSettings, UsageSettings):
    """What both HTTP apps serve: sign-in, uploads and submits, live frames, shares, `/v1`, waits."""

    # Sign-in throttling: failed attempts allowed per e-mail and per client IP within a window
    # that starts at the first failure; 0 turns a limit off.
    login_max_failures_per_email: int = Field(10, ge=0)
    login_max_failures_per_ip: int = Field(100, ge=0)
    login_window_seconds: int = Field(900, gt=0)
    # Share links (GET /shared/{token}): links that do not open (unknown, expired, revoked)
    # allowed per client IP within a window before it waits; 0 turns the limit off. And how
    # long the presigned audio URL a shared page gets stays valid.
    share_misses_per_ip: int = Field(30, ge=0)
    share_window_seconds: int = Field(900, gt=0)
    share_audio_url_seconds: int = Field(3600, gt=0)
    # Prefix of the URLs the API hands out (a job's stream_url, share links) when clients reach
    # them at another origin; unset: relative URLs, on the same origin.
    public_url: str | None = None

    # Uploads.
    max_upload_mb: int = Field(500, gt=0)
    max_multipart_mb: int = Field(10, gt=0)
    upload_url_seconds: int = Field(3600, gt=0)
    # OpenAI-compatible /v1/audio/*: OpenAI's own file limit, and how long a request waits.
    openai_max_file_mb: int = Field(25, gt=0)
    openai_wait_seconds: int = Field(900, gt=0)

    # Live sessions (POST /live): length limit, how long without audio before a session stops by
    # itself, and the largest frame accepted (5 s of PCM16 at 16 kHz; a DynamoDB item holds 400 KB).
    live_max_seconds: int = Field(2 * 3600, gt=0)
    live_idle_seconds: int = Field(60, gt=0)
    live_frame_max_bytes: int = Field(160_000, gt=0, le=350_000)

    # Following a job's events (the SSE relay, and `/v1` waiting for its transcript): a comment
    # line this often keeps proxies from closing an idle stream; the event log is polled every
    # min..max seconds while events come, backing off after `relay_idle_after_seconds` without
    # any, up to relay_poll_idle_seconds.
    heartbeat_seconds: float = Field(15.0, gt=0)
    relay_poll_min_seconds: float = Field(0.05, gt=0)
    relay_poll_max_seconds: float = Field(0.1, gt=0)
    relay_idle_after_seconds: float = Field(10.0, gt=0)
    relay_poll_idle_seconds: float = Field(1.0, gt=0)

    # The GPU worker's ECS service, which the API and /v1 start at once when they queue work
    # while it runs no task (grabadora/adapters/worker_service.py). Set by the CDK stack; unset
    # (the local stack, whose worker always runs): no nudge.
    worker_cluster: str | None = None
    worker_service: str | None = None
    worker_min_tasks: int = Field(0, ge=0)  # the deploy's workerMinTasks, restored when the hold ends
    worker_nudge_hold_seconds: int = Field(300, ge=60)
    # After seeing the service busy, skip the DescribeServices call for this long.
    worker_nudge_recheck_seconds: float = Field(30.0, ge=0)


class ApiSettings(IntakeSettings, IntegrationSettings):
    """The API Lambda: everything the HTTP intake serves, and users' integration settings."""


class RelaySettings(IntakeSettings):
    """The SSE relay Lambda (it also serves `/v1` on AWS): the intake plus how streams end."""

    # A stream ends cleanly (with a `retry:` hint) after this many seconds and the client resumes
    # with Last-Event-ID; 0 = never. On AWS it must stay under the Lambda's 15-minute limit (CDK
    # sets 840). `stream_retry_ms` is the hint: how soon the client should come back.
    stream_max_seconds: float = Field(0, ge=0)
    stream_retry_ms: int = Field(500, ge=0)
    # Open streams one user may hold at once (each holds a relay Lambda on AWS); 0 = no cap.
    # Beyond it the relay answers 429. Counted in the user-state table, so across instances.
    streams_per_user: int = Field(0, ge=0)


class WorkerSettings(UsageSettings):
    """The GPU worker: the model, how it takes jobs and live sessions. It holds no key."""

    whisper_model: str = "base"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    model_cache_dir: str | None = None
    cpu_threads: int = Field(0, ge=0)  # 0: CTranslate2's default (all cores)
    max_audio_seconds: int = Field(4 * 3600, gt=0)
    # Long files (gpu_container/long_form.py): from this length the opening is decoded as usual
    # and the rest in batches of up to `batch_size` spans (0: 8 on a CPU, from free memory on a
    # GPU; 1: never batched).
    long_form_from_seconds: float = Field(240, gt=0)
    batch_size: int = Field(0, ge=0)
    sqs_wait_seconds: int = Field(20, ge=0, le=20)
    iot_publish: bool = True
    # How long one job may hold ECS task scale-in protection (renewed per job).
    task_protection_minutes: int = Field(240, gt=0)
    # Live sessions one worker runs at once beside its file job (each loads its own model copy,
    # so a live step never waits for a file job's window), and the model they use (unset:
    # whisper_model).
    live_sessions_per_worker: int = Field(1, ge=0)
    live_whisper_model: str | None = None


class ExporterSettings(IntegrationSettings):
    """The exporter Lambda: where the services are and how deliveries are retried.

    The services' base URLs are settings so tests can point them locally.
    """

    notion_api_url: str = "https://api.notion.com"
    notion_version: str = "2022-06-28"
    trello_api_url: str = "https://api.trello.com"
    export_max_attempts: int = Field(5, gt=0)
    export_backoff_seconds: float = Field(2.0, ge=0)  # first retry delay; doubles per attempt
    export_timeout_seconds: float = Field(15.0, gt=0)


class DevSettings(ApiSettings, RelaySettings, WorkerSettings, ExporterSettings):
    """`grabadora dev`: the four deployables in one process, plus the local server and emulator."""

    host: str = "127.0.0.1"
    port: int = 8000
    emulator_port: int = 0
    # Where `grabadora dev` keeps the embedded emulator's tables, queues and audio between runs.
    data_dir: str = "~/.local/share/grabadora"
    # Proxies whose X-Forwarded-For the local server believes (uvicorn's FORWARDED_ALLOW_IPS:
    # comma-separated addresses or networks). None by default: the client IP is the connection's.
    forwarded_allow_ips: str = ""
    # With a token, the local GET /metrics asks for `Authorization: Bearer <token>` (set one if
    # the port is reachable from other machines).
    metrics_token: SecretStr | None = None


def _refuse_dev_key(settings: CommonSettings, name: str, dev_value: str) -> None:
    if settings.stage != "dev" and getattr(settings, name).get_secret_value() == dev_value:
        raise ValueError(f"GRABADORA_{name.upper()} must be set outside the dev stage")


def _read_secret(settings: CommonSettings, secret_id: str) -> str:
    """One secret's value through Powertools (cached per container for max_age seconds)."""
    from grabadora.adapters.secrets import read_secret

    return read_secret(secret_id, endpoint_url=settings.aws_endpoint_url, region=settings.region,
                       max_age=settings.secrets_max_age_seconds)


S = TypeVar("S", bound=CommonSettings)

_lock = threading.Lock()
_current: CommonSettings | None = None
# The class `get_settings` reads from the environment when no object was installed.
_kind: type[CommonSettings] = DevSettings


def serve_as(kind: type[CommonSettings]) -> None:
    """Name this process's settings class (a deployed entry point's first step); read on first use.

    Settings the process installed already stay, class and all, when they are a `kind`: the dev
    stack installs its `DevSettings` (every class) before it imports the exporter's handler,
    whose module names `ExporterSettings`, and keeps them.
    """
    global _kind, _current
    with _lock:
        if _current is not None and isinstance(_current, kind):
            return
        _kind, _current = kind, None


def use_settings(settings: S) -> S:
    """Make `settings` this process's settings (an entry point's choice, before it serves).

    Adapters and the apps' dependencies read them through `get_settings`; the cached AWS
    clients are rebuilt from them.
    """
    global _current
    from grabadora import aws  # aws reads these settings: imported on use, not at import

    with _lock:
        _current = settings
    aws.reset_clients()
    return settings


def get_settings() -> CommonSettings:
    """The process's settings: those given to `use_settings`, else its class's from the environment."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = _kind()
    return _current


def settings_as(kind: type[S]) -> S:
    """The process's settings as a `kind`, which the process's class must be (or extend)."""
    current = get_settings()
    if not isinstance(current, kind):
        raise TypeError(f"{kind.__name__} needed, but this process runs with {type(current).__name__}")
    return current


def forget_settings() -> None:
    """Drop the process's settings and class, so the next `get_settings` reads the environment
    as `DevSettings` (tests; a test that imported a Lambda handler leaves no class behind)."""
    global _current, _kind
    with _lock:
        _current = None
        _kind = DevSettings


# The spelling of an lru_cache, which tests and benchmarks use to re-read the environment.
get_settings.cache_clear = forget_settings  # type: ignore[attr-defined]
