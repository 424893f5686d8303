"""The tables, queues and bucket, defined once: CDK and the local emulator both read these."""

from __future__ import annotations

from dataclasses import dataclass, field

from grabadora.settings import CommonSettings


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str  # "S" or "N", as DynamoDB spells it


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout_seconds: int
    max_receive_count: int
    dlq_name: str
    receive_wait_seconds: int = 20
    dlq_retention_days: int = 14


@dataclass(frozen=True)
class CorsRule:
    """The bucket's cross-origin rule, less its origins (CDK context on AWS, `*` locally).

    Browsers PUT audio straight to presigned URLs and read it back, cross-origin; the signature
    is the authorisation.
    """

    allowed_methods: tuple[str, ...] = ("PUT", "GET")
    allowed_headers: tuple[str, ...] = ("*",)
    exposed_headers: tuple[str, ...] = ("ETag",)
    max_age_seconds: int = 3600


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    name: str
    audio_prefix: str = "audio/"
    transcripts_prefix: str = "transcripts/"
    cors: CorsRule = CorsRule()


@dataclass(frozen=True)
class ConsumerSpec:
    """A Lambda function fed by a queue: how long one invocation may run and how many records it gets.

    The local stack's stand-in for the event source mapping (`grabadora.local.exporter_runner`)
    uses the same figures, and the queue's visibility timeout derives from the timeout.
    """

    timeout_seconds: int
    batch_size: int

    @property
    def queue_visibility_seconds(self) -> int:
        """AWS advises a source queue's visibility timeout of at least 6× the function's timeout."""
        return 6 * self.timeout_seconds


# Each export delivery's HTTP calls are bounded by `export_timeout_seconds` (15 s by default),
# so a batch of two fits in 60 s with room for a cold start.
EXPORTER = ConsumerSpec(timeout_seconds=60, batch_size=2)


@dataclass(frozen=True)
class Resources:
    users: TableSpec
    transcripts: TableSpec
    events: TableSpec
    user_state: TableSpec
    live_frames: TableSpec
    jobs: QueueSpec
    live: QueueSpec
    exports: QueueSpec
    bucket: BucketSpec
    tables: tuple[TableSpec, ...] = field(init=False)
    queues: tuple[QueueSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "tables", (self.users, self.transcripts, self.events, self.user_state, self.live_frames),
        )
        object.__setattr__(self, "queues", (self.jobs, self.live, self.exports))


def build_resources(settings: CommonSettings) -> Resources:
    """The resource definitions for one deployment, named from settings."""
    return Resources(
        users=TableSpec("UsersTable", settings.users_table, KeyAttribute("email", "S")),
        transcripts=TableSpec(
            "TranscriptsTable",
            settings.transcripts_table,
            KeyAttribute("user_id", "S"),
            KeyAttribute("transcript_id", "S"),
        ),
        events=TableSpec(
            "EventsTable",
            settings.events_table,
            KeyAttribute("job_id", "S"),
            KeyAttribute("seq", "N"),
            ttl_attribute="ttl",
        ),
        # Per-user state that is not a transcript: integration settings, monthly usage counters.
        user_state=TableSpec(
            "UserStateTable",
            settings.user_state_table,
            KeyAttribute("user_id", "S"),
            KeyAttribute("item", "S"),
            ttl_attribute="ttl",  # sign-in throttle counters expire; settings and usage carry none
        ),
        # A live session's audio frames (PCM16, 16 kHz) until its worker has stored the whole
        # recording; the TTL clears the frames of sessions nobody finished.
        live_frames=TableSpec(
            "LiveFramesTable",
            settings.live_frames_table,
            KeyAttribute("live_id", "S"),
            KeyAttribute("seq", "N"),
            ttl_attribute="ttl",
        ),
        jobs=QueueSpec(
            "JobsQueue",
            settings.jobs_queue,
            visibility_timeout_seconds=settings.visibility_timeout_seconds,
            max_receive_count=settings.max_receives,
            dlq_name=f"{settings.jobs_queue}-dlq",
        ),
        # Live sessions have their own queue so they never wait behind file jobs: every worker
        # polls it beside the jobs queue (docs/DECISIONS.md, "Live sessions").
        live=QueueSpec(
            "LiveQueue",
            settings.live_queue,
            visibility_timeout_seconds=settings.visibility_timeout_seconds,
            max_receive_count=settings.max_receives,
            dlq_name=f"{settings.live_queue}-dlq",
        ),
        exports=QueueSpec(
            "ExportsQueue",
            settings.exports_queue,
            # Retries set their own delay (the message's visibility) when they give a record back.
            visibility_timeout_seconds=EXPORTER.queue_visibility_seconds,
            max_receive_count=5,
            dlq_name=f"{settings.exports_queue}-dlq",
        ),
        bucket=BucketSpec("DataBucket", settings.bucket),
    )


def stage_names(prefix: str) -> dict[str, str]:
    """The settings fields that name resources, all under one prefix (e.g. `grabadora-prod`)."""
    return {
        "users_table": f"{prefix}-users",
        "transcripts_table": f"{prefix}-transcripts",
        "events_table": f"{prefix}-events",
        "user_state_table": f"{prefix}-user-state",
        "live_frames_table": f"{prefix}-live-frames",
        "jobs_queue": f"{prefix}-jobs",
        "live_queue": f"{prefix}-live",
        "exports_queue": f"{prefix}-exports",
        "bucket": f"{prefix}-data",
    }


def build_stage_resources(stage: str, app: str = "grabadora") -> Resources:
    """A deployment's resources named `{app}-{stage}-…`, from the settings' defaults only.

    CDK builds the stack from this, so a synth never depends on the synth machine's `GRABADORA_*`
    variables and two stages (or a redeploy next to a retained table) never share a name.
    `model_construct` reads no environment and no `.env`: the defaults plus these names.
    """
    return build_resources(CommonSettings.model_construct(**stage_names(f"{app}-{stage}")))
