"""Deployment knobs read from CDK context (`cdk deploy -c key=value` or cdk.json), with defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[1]

# What never goes into a Lambda code asset or the worker's Docker build context.
ASSET_EXCLUDE = [
    ".git",
    ".git/**",
    ".venv",
    ".venv/**",
    "**/__pycache__",
    "**/*.pyc",
    "**/node_modules",
    "node_modules/**",
    "frontend",
    "frontend/**",
    "tests",
    "tests/**",
    "docs",
    "benchmarks",
    "build",
    "build/**",
    "dist",
    "cdk.out",
    "cdk.out/**",
    "infra_cdk",
    "*.egg-info",
    ".pytest_cache",
    ".grabadora",
    ".env",
    ".ci",
]

# Published by AWS for the Lambda Web Adapter (x86_64), same account in every commercial region.
DEFAULT_LWA_LAYER = "arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:25"


@dataclass(frozen=True)
class DeployConfig:
    stage: str
    whisper_model: str
    worker_instance_type: str
    worker_max_instances: int
    worker_max_tasks: int
    worker_min_tasks: int  # 1 keeps a warm GPU worker for live sessions (docs/deploy.md, "Live sessions")
    lambda_adapter_layer_arn: str
    dependencies_layer_dir: Path
    frontend_dist_dir: Path
    api_rate_limit: int
    api_burst_limit: int
    audio_ia_days: int
    audio_expiration_days: int
    rtf_alarm_threshold: float
    oldest_job_alarm_seconds: int
    alarm_email: str | None
    cors_origins: list[str]
    iot_endpoint: str | None  # `aws iot describe-endpoint --endpoint-type iot:Data-ATS`
    # The relay: a stream ends cleanly after this long (the client resumes with Last-Event-ID),
    # under Lambda's 900 s; open streams per user (429 beyond); the relay's reserved concurrency
    # (the most streams open at once, all users together; it also caps what the relay can cost).
    stream_max_seconds: int = 840
    streams_per_user: int = 5
    stream_reserved_concurrency: int = 20
    # Requests one client IP may make to the API stage in 5 minutes before WAF blocks it (0: no web ACL).
    api_waf_rate_limit: int = 2000
    # The same per viewer IP on the CloudFront distribution (everything: app, API, streams, /v1),
    # made in this stack when it is deployed in us-east-1 (0: none); or an existing CLOUDFRONT
    # web ACL's ARN (created in us-east-1) for a stack deployed elsewhere.
    edge_waf_rate_limit: int = 2000
    edge_web_acl_arn: str | None = None
    # Business-metric alarms (grabadora/metrics.py): first words slower than this at p90 over two
    # 5-minute periods; this many jobs ended failed within 15 minutes.
    first_word_alarm_seconds: float = 10.0
    failed_jobs_alarm_count: int = 5
    # Speaker separation in the worker image (torch CPU + resemblyzer's encoder, more
    # to pull at every cold start); off: jobs asking for speakers complete unlabelled, saying why.
    speakers: bool = False

    @classmethod
    def from_context(cls, scope: Construct) -> DeployConfig:
        def ctx(key: str, default):  # noqa: ANN001, ANN202 - context values are untyped
            value = scope.node.try_get_context(key)
            return default if value is None else value

        def path(key: str, default: str) -> Path:
            p = Path(str(ctx(key, default)))
            return p if p.is_absolute() else REPO_ROOT / p

        return cls(
            stage=str(ctx("stage", "prod")),
            whisper_model=str(ctx("whisperModel", "base")),
            worker_instance_type=str(ctx("workerInstanceType", "g5.xlarge")),
            worker_max_instances=int(ctx("workerMaxInstances", 2)),
            worker_max_tasks=int(ctx("workerMaxTasks", 2)),
            worker_min_tasks=int(ctx("workerMinTasks", 0)),
            lambda_adapter_layer_arn=str(ctx("lambdaAdapterLayerArn", DEFAULT_LWA_LAYER)),
            dependencies_layer_dir=path("dependenciesLayerDir", "build/layer"),
            frontend_dist_dir=path("frontendDistDir", "frontend/dist"),
            api_rate_limit=int(ctx("apiRateLimit", 50)),
            api_burst_limit=int(ctx("apiBurstLimit", 100)),
            audio_ia_days=int(ctx("audioInfrequentAccessDays", 30)),
            audio_expiration_days=int(ctx("audioExpirationDays", 0)),
            rtf_alarm_threshold=float(ctx("rtfAlarmThreshold", 0.5)),
            oldest_job_alarm_seconds=int(ctx("oldestJobAlarmSeconds", 900)),
            alarm_email=ctx("alarmEmail", None),
            cors_origins=list(ctx("corsOrigins", ["*"])),
            iot_endpoint=ctx("iotEndpoint", None),
            stream_max_seconds=int(ctx("streamMaxSeconds", 840)),
            streams_per_user=int(ctx("streamsPerUser", 5)),
            stream_reserved_concurrency=int(ctx("streamConcurrency", 20)),
            api_waf_rate_limit=int(ctx("apiWafRateLimit", 2000)),
            edge_waf_rate_limit=int(ctx("edgeWafRateLimit", 2000)),
            edge_web_acl_arn=ctx("edgeWebAclArn", None),
            first_word_alarm_seconds=float(ctx("firstWordAlarmSeconds", 10.0)),
            failed_jobs_alarm_count=int(ctx("failedJobsAlarmCount", 5)),
            speakers=str(ctx("speakers", False)).lower() in ("1", "true", "yes"),
        )

    def __post_init__(self) -> None:
        if not 0 < self.stream_max_seconds < 900:
            raise ValueError(f"streamMaxSeconds must be between 1 and 899 (Lambda ends an invocation at 900 s), not {self.stream_max_seconds}")
        if not 0 <= self.worker_min_tasks <= self.worker_max_tasks:
            raise ValueError(f"workerMinTasks must be between 0 and workerMaxTasks ({self.worker_max_tasks}), not {self.worker_min_tasks}")


def lwa_layer_arn(config: DeployConfig) -> str:
    """The adapter layer ARN, `${AWS::Region}` resolved by CloudFormation (no lookup)."""
    if "${" in config.lambda_adapter_layer_arn:
        return cdk.Fn.sub(config.lambda_adapter_layer_arn)
    return config.lambda_adapter_layer_arn
