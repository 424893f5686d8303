"""Stream: the SSE relay (uvicorn) under the Lambda Web Adapter, behind a response-streaming Function URL
that only CloudFront may call; the same function serves `/v1` through API Gateway's response streaming."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk.common import Shared
from infra_cdk.config import DeployConfig, lwa_layer_arn
from infra_cdk.data import Data
from infra_cdk.nag import S3_READ_ACTIONS, s3_grant_findings, suppress

PORT = "8080"

# /v1 (OpenAI-compatible) on AWS, docs/deploy.md "/v1 on AWS". It reaches this function through
# API Gateway (a Lambda invocation takes at most 6 MB, and a multipart body travels base64, 4/3 of
# its size): 4 MB of audio fits with its form and the event around it. CloudFront waits at most
# 120 s for a first byte (its default quota), so a request that waits for the whole transcript
# answers the app's own 504 with the job id at 100 s rather than CloudFront's bare one.
OPENAI_MAX_FILE_MB = 4
OPENAI_READ_TIMEOUT_SECONDS = 120
OPENAI_WAIT_SECONDS = 100


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
                # doorbell and the poll alone sets latency: the rest of the interval plus one
                # Query (DynamoDB documents single-digit ms), at worst 30 + 10 ms, under the
                # 50 ms target (docs/DECISIONS.md); a quiet job still backs off to 1/s.
                "GRABADORA_RELAY_POLL_MIN_SECONDS": "0.015",
                "GRABADORA_RELAY_POLL_MAX_SECONDS": "0.03",
                # The relay ends each stream itself before the invocation's 15 minutes (a clean
                # end, not a timeout counted as an error), with `retry:` so that the client
                # resumes at once with Last-Event-ID; the replay makes the cut invisible.
                "GRABADORA_STREAM_MAX_SECONDS": str(config.stream_max_seconds),
                "GRABADORA_STREAM_RETRY_MS": "500",
                "GRABADORA_STREAMS_PER_USER": str(config.streams_per_user),
                "GRABADORA_OPENAI_MAX_FILE_MB": str(OPENAI_MAX_FILE_MB),
                "GRABADORA_OPENAI_WAIT_SECONDS": str(OPENAI_WAIT_SECONDS),
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
        # /v1: an OpenAI-style request becomes an ordinary job (API key lookup, quota and turns
        # in the user-state table; the audio under audio/; the item; the jobs queue), and its
        # answer is read back from the transcript JSON under transcripts/.
        fn = self.function
        data.transcripts.grant_read_write_data(fn)
        data.user_state.grant_read_write_data(fn)
        data.bucket.grant_put(fn, "audio/*")
        data.bucket.grant_read(fn, "transcripts/*")
        data.jobs.grant_send_messages(fn)
        suppress(fn, s3_grant_findings(data.bucket, ["audio/*", "transcripts/*"], [*S3_READ_ACTIONS, "s3:Abort*"],
                                       "/v1 stores any user's upload under audio/{user}/ and reads transcripts/{user}/; the app scopes keys per user."))

        # Only CloudFront may call the URL: AWS_IAM, and the distribution signs each request with
        # origin access control (infra_cdk/frontend.py). The app's own auth (a bearer or the
        # job's stream token) still decides who sees which job.
        self.url = self.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.AWS_IAM,
            invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM,
        )
