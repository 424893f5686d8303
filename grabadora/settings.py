"""Typed settings: built once per process, from `GRABADORA_*` environment variables or by its entry point.

A deployed process (a Lambda function, the worker's container) is configured by its
environment and reads it on first use. A process that starts others in itself (`grabadora
dev`) builds their settings as an object and installs it with `use_settings`; it never writes
the environment.
"""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of Grabadora; `.env.example` lists them with their defaults."""

    model_config = SettingsConfigDict(env_prefix="GRABADORA_", env_file=".env", extra="ignore")

    # AWS: an endpoint URL selects the emulator or LocalStack; unset means real AWS.
    aws_endpoint_url: str | None = None
    # S3 alone elsewhere (e.g. MinIO beside LocalStack); defaults to aws_endpoint_url.
    s3_endpoint_url: str | None = None
    region: str = "us-east-1"
    stage: str = "dev"

    users_table: str = "grabadora-users"
    transcripts_table: str = "grabadora-transcripts"
    events_table: str = "grabadora-events"
    jobs_queue: str = "grabadora-jobs"
    exports_queue: str = "grabadora-exports"
    user_state_table: str = "grabadora-user-state"
    live_frames_table: str = "grabadora-live-frames"
    live_queue: str = "grabadora-live"
    bucket: str = "grabadora-data"

    # Auth. The default key only exists so `grabadora dev` runs out of the box; it is refused
    # outside the dev stage (see `check_production_ready`).
    jwt_secret_key: SecretStr = SecretStr("grabadora-dev-only-secret-change-me-0123456789")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_minutes: int = Field(60 * 12, gt=0)
    stream_token_minutes: int = Field(60 * 6, gt=0)
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

    # Uploads.
    max_upload_mb: int = Field(500, gt=0)
    max_multipart_mb: int = Field(10, gt=0)
    upload_url_seconds: int = Field(3600, gt=0)
    # OpenAI-compatible /v1/audio/*: OpenAI's own file limit, and how long a request waits.
    openai_max_file_mb: int = Field(25, gt=0)
    openai_wait_seconds: int = Field(900, gt=0)

    # Worker.
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
    visibility_timeout_seconds: int = Field(120, gt=0)
    max_receives: int = Field(3, gt=0)
    events_ttl_days: int = Field(30, gt=0)
    iot_publish: bool = True
    # On AWS, the account's IoT data endpoint (`aws iot describe-endpoint --endpoint-type
    # iot:Data-ATS`); with an emulator endpoint URL that one is used instead.
    iot_endpoint: str | None = None
    # Metrics (grabadora/metrics.py): with a CloudWatch namespace (set on AWS) the business
    # figures go out as embedded-metric-format lines on stdout; unset, they are Prometheus series
    # at the local stack's GET /metrics, which then asks for `Authorization: Bearer <token>`
    # when a metrics token is set (set one if the port is reachable from other machines).
    metrics_namespace: str | None = None
    metrics_token: SecretStr | None = None
    # How long one job may hold ECS task scale-in protection (renewed per job).
    task_protection_minutes: int = Field(240, gt=0)

    # Live sessions (POST /live): length limit, how long without audio before a session stops by
    # itself, the largest frame accepted (5 s of PCM16 at 16 kHz; a DynamoDB item holds 400 KB),
    # how long frames are kept if a session is abandoned, and sessions one worker runs at once
    # beside its file job (each loads its own model copy, so a live step never waits for a file
    # job's window).
    live_max_seconds: int = Field(2 * 3600, gt=0)
    live_idle_seconds: int = Field(60, gt=0)
    live_frame_max_bytes: int = Field(160_000, gt=0, le=350_000)
    live_frames_ttl_hours: int = Field(48, gt=0)
    live_sessions_per_worker: int = Field(1, ge=0)
    # The model live sessions use; unset: whisper_model.
    live_whisper_model: str | None = None

    # SSE relay.
    heartbeat_seconds: float = Field(15.0, gt=0)
    relay_poll_min_seconds: float = Field(0.05, gt=0)
    relay_poll_max_seconds: float = Field(0.1, gt=0)
    # After this long without events a stream backs off further, up to relay_poll_idle_seconds.
    relay_idle_after_seconds: float = Field(10.0, gt=0)
    relay_poll_idle_seconds: float = Field(1.0, gt=0)
    # A stream ends cleanly (with a `retry:` hint) after this many seconds and the client resumes
    # with Last-Event-ID; 0 = never. On AWS it must stay under the Lambda's 15-minute limit (CDK
    # sets 840). `stream_retry_ms` is the hint: how soon the client should come back.
    stream_max_seconds: float = Field(0, ge=0)
    stream_retry_ms: int = Field(500, ge=0)
    # Open streams one user may hold at once (each holds a relay Lambda on AWS); 0 = no cap.
    # Beyond it the relay answers 429. Counted in the user-state table, so across instances.
    streams_per_user: int = Field(0, ge=0)

    # Local stack and CLI.
    host: str = "127.0.0.1"
    port: int = 8000
    emulator_port: int = 0
    # Where `grabadora dev` keeps the embedded emulator's tables, queues and audio between runs.
    data_dir: str = "~/.local/share/grabadora"
    api_url: str = "http://127.0.0.1:8000"
    public_url: str | None = None

    # Integrations (used by the exporter). Per-user settings (PUT /me/integrations) win over
    # these deployment-wide defaults. Base URLs are settings so tests can point them locally.
    notion_token: SecretStr | None = None
    trello_key: SecretStr | None = None
    trello_token: SecretStr | None = None
    notion_api_url: str = "https://api.notion.com"
    notion_version: str = "2022-06-28"
    trello_api_url: str = "https://api.trello.com"
    webhook_allow_private: bool = False  # deliver to loopback/private addresses (tests, LANs)
    export_max_attempts: int = Field(5, gt=0)
    export_backoff_seconds: float = Field(2.0, ge=0)  # first retry delay; doubles per attempt
    export_timeout_seconds: float = Field(15.0, gt=0)
    # Fernet key (urlsafe base64, 32 bytes) that encrypts users' integration secrets at rest.
    # The default only exists for `grabadora dev`; it is refused outside the dev stage.
    secrets_key: SecretStr = SecretStr("Z3JhYmFkb3JhLWRldi1vbmx5LXNlY3JldHMta2V5ISE=")

    # Usage: audio seconds a user may transcribe per calendar month (UTC); 0 = unlimited.
    monthly_quota_seconds: int = Field(0, ge=0)
    # Queued, running and live jobs one user may have at once (0: no limit); a submit past it is a 429.
    max_jobs_in_flight: int = Field(10, ge=0)
    # Fair turns: a user's file jobs in the jobs queue or running at once; the rest wait, held,
    # and are queued as that user's earlier ones end (0: every job queued at submit). One per
    # worker at most: locally one worker, so 1; on AWS (SQS fair queues) the fleet's size.
    jobs_queued_per_user: int = Field(1, ge=0)
    # Proxies whose X-Forwarded-For the local server believes (uvicorn's FORWARDED_ALLOW_IPS:
    # comma-separated addresses or networks). None by default: the client IP is the connection's.
    forwarded_allow_ips: str = ""

    # The GPU worker's ECS service, which the API and /v1 start at once when they queue work
    # while it runs no task (grabadora/adapters/worker_service.py). Set by the CDK stack; unset
    # (the local stack, whose worker always runs): no nudge.
    worker_cluster: str | None = None
    worker_service: str | None = None
    worker_min_tasks: int = Field(0, ge=0)  # the deploy's workerMinTasks, restored when the hold ends
    worker_nudge_hold_seconds: int = Field(300, ge=60)
    # After seeing the service busy, skip the DescribeServices call for this long.
    worker_nudge_recheck_seconds: float = Field(30.0, ge=0)

    # On AWS the keys are not in the environment: these name Secrets Manager secrets (ARN or
    # name; a JSON secret's "key" field, or the plain string) read once per container through
    # Powertools' parameters utility (cached `secrets_max_age_seconds`). Unset: the values above.
    jwt_secret_arn: str | None = None
    secrets_key_arn: str | None = None
    secrets_max_age_seconds: int = Field(300, gt=0)
    # Which keys this process needs outside the dev stage (comma-separated field names): the API
    # both, the relay `jwt_secret_key` (it checks tokens), the exporter `secrets_key` (it decrypts
    # integration secrets), the worker neither (it signs and decrypts nothing).
    required_keys: str = "jwt_secret_key,secrets_key"

    @model_validator(mode="after")
    def read_secrets(self) -> Settings:
        """Fill the keys from Secrets Manager when their secrets are named."""
        if self.jwt_secret_arn:
            self.jwt_secret_key = SecretStr(_read_secret(self, self.jwt_secret_arn))
        if self.secrets_key_arn:
            key = _read_secret(self, self.secrets_key_arn)
            # CDK generates 43 URL-safe characters; Fernet wants the 32-byte key's base64 padding.
            self.secrets_key = SecretStr(key + "=" * (-len(key) % 4))
        return self

    @model_validator(mode="after")
    def check_production_ready(self) -> Settings:
        """Outside the dev stage the built-in development keys are refused."""
        if self.stage != "dev":
            for name in [n.strip() for n in self.required_keys.split(",") if n.strip() in ("jwt_secret_key", "secrets_key")]:
                if getattr(self, name).get_secret_value() == type(self).model_fields[name].default.get_secret_value():
                    raise ValueError(f"GRABADORA_{name.upper()} must be set outside the dev stage")
        return self


def _read_secret(settings: Settings, secret_id: str) -> str:
    """One secret's value through Powertools (cached per container for max_age seconds)."""
    from grabadora.adapters.secrets import read_secret

    return read_secret(secret_id, endpoint_url=settings.aws_endpoint_url, region=settings.region,
                       max_age=settings.secrets_max_age_seconds)


_lock = threading.Lock()
_current: Settings | None = None


def use_settings(settings: Settings) -> Settings:
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


def get_settings() -> Settings:
    """The process's settings: those given to `use_settings`, else the environment's, read once."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = Settings()
    return _current


def forget_settings() -> None:
    """Drop the process's settings, so the next `get_settings` reads the environment (tests)."""
    global _current
    with _lock:
        _current = None


# The spelling of an lru_cache, which tests and benchmarks use to re-read the environment.
get_settings.cache_clear = forget_settings  # type: ignore[attr-defined]
