"""Stream: the SSE relay (uvicorn) under the Lambda Web Adapter, behind a response-streaming Function URL."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.common import Shared
from infra_cdk.config import DeployConfig, lwa_layer_arn
from infra_cdk.data import Data

PORT = "8080"


class Stream(Construct):
    def __init__(self, scope: Construct, id: str, *, data: Data, shared: Shared, config: DeployConfig, environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        adapter = lambda_.LayerVersion.from_layer_version_arn(self, "WebAdapter", lwa_layer_arn(config))
        self.function = shared.function(
            self,
            "Function",
            # Under the adapter the handler is the start-up script; the adapter proxies to it.
            handler="functions/stream/run.sh",
            layers=[adapter],
            environment={
                **environment,
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                "AWS_LWA_INVOKE_MODE": "response_stream",
                "AWS_LWA_PORT": PORT,
                "PORT": PORT,
                "AWS_LWA_READINESS_CHECK_PATH": "/",
                "POWERTOOLS_SERVICE_NAME": "grabadora-stream",
                # The worker commits from its own container, so no commit rings this relay's
                # doorbell and the poll alone sets latency: half the interval plus one Query.
                # 15 → 30 ms: p50 24–30 ms against 34–43 ms at 25 → 50 side by side (docs/BENCHMARKS.md),
                # at ~1,400 reads per streamed minute of an active job instead of ~1,000; a
                # quiet one still backs off to 1/s.
                "GRABADORA_RELAY_POLL_MIN_SECONDS": "0.015",
                "GRABADORA_RELAY_POLL_MAX_SECONDS": "0.03",
                # The relay ends each stream itself before the invocation's 15 minutes (a clean
                # end, not a timeout counted as an error), with `retry:` so that the client
                # resumes at once with Last-Event-ID; the replay makes the cut invisible.
                "GRABADORA_STREAM_MAX_SECONDS": str(config.stream_max_seconds),
                "GRABADORA_STREAM_RETRY_MS": "500",
                "GRABADORA_STREAMS_PER_USER": str(config.streams_per_user),
            },
            # The hard stop behind GRABADORA_STREAM_MAX_SECONDS.
            timeout=cdk.Duration.minutes(15),
            # Every open stream holds one execution environment: bound them (and what they cost),
            # so streams cannot starve the API and exporter of the account's concurrency.
            reserved_concurrent_executions=config.stream_reserved_concurrency,
            memory_size=512,
            description="Grabadora SSE relay (uvicorn under the Lambda Web Adapter, response streaming)",
        )
        data.transcripts.grant_read_data(self.function)  # ownership check, status
        data.events.grant_read_data(self.function)  # replay and follow
        # The user-state table: GetItem for the token's session (a signed-out or deleted account's
        # stream token is refused); Put/Update for the per-user stream leases (grabadora/adapters/stream_slots.py).
        data.user_state.grant(self.function, "dynamodb:GetItem", *(["dynamodb:PutItem", "dynamodb:UpdateItem"] if config.streams_per_user else []))

        # Auth is the app's (bearer or per-job stream token), so the URL itself is public.
        self.url = self.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.NONE,
            invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM,
        )
