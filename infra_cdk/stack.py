"""The one Stack: Data, Api, Stream, Worker, Exporter, Realtime, Frontend, Monitoring."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from grabadora.resources import build_stage_resources
from infra_cdk.api import Api
from infra_cdk.common import Shared
from infra_cdk.config import DeployConfig
from infra_cdk.data import Data
from infra_cdk.exporter import Exporter
from infra_cdk.frontend import Frontend
from infra_cdk.monitoring import Monitoring
from infra_cdk.realtime import Realtime
from infra_cdk.stream import Stream
from infra_cdk.worker import METRICS_NAMESPACE, Worker


class GrabadoraStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, description="Grabadora: speech transcription (API, live stream, GPU worker, SPA)", **kwargs)
        self.config = config = DeployConfig.from_context(self)
        # The same definitions the local emulator provisions, named grabadora-{stage}-…: explicit
        # names, never the synth machine's GRABADORA_* variables; two stages never collide.
        self.resources = resources = build_stage_resources(config.stage)

        self.data = Data(self, "Data", resources=resources, config=config)
        self.shared = Shared(self, "Shared", config=config)
        environment = {
            **self.data.names_environment(),
            "GRABADORA_STAGE": config.stage,
            # Fair turns: a user may have as many jobs queued or running as there are workers; the
            # jobs queue is an SQS fair queue (MessageGroupId = user), so they never hold up another
            # user's job by more than one job (docs/DECISIONS.md, "Fair turns").
            "GRABADORA_JOBS_QUEUED_PER_USER": str(config.worker_max_tasks),
            # Business metrics as EMF lines on stdout (grabadora/metrics.py): Lambda's logs and the
            # worker's awslogs driver carry them to CloudWatch, which extracts them; no API call.
            "GRABADORA_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
        # No secret values in any environment: each function gets the ARNs of the secrets it
        # reads (and GetSecretValue on exactly those); the worker gets neither key.
        lambda_environment = environment

        self.stream = Stream(self, "Stream", data=self.data, shared=self.shared, config=config, environment=lambda_environment)
        self.api = Api(self, "Api", data=self.data, shared=self.shared, config=config, environment=lambda_environment,
                       openai_function=self.stream.function)
        self.exporter = Exporter(self, "Exporter", data=self.data, shared=self.shared, config=config, environment=lambda_environment)
        self.shared.read_secrets(self.api.function, jwt=True, fernet=True)  # tokens; integration secrets
        self.shared.read_secrets(self.stream.function, jwt=True)  # checks stream tokens
        self.shared.read_secrets(self.exporter.function, fernet=True)  # decrypts integration secrets
        self.worker = Worker(self, "Worker", data=self.data, shared=self.shared, config=config, environment=environment)
        # Both enqueue jobs (the API; the stream function for /v1): both may start a sleeping worker.
        self.worker.allow_nudge(self.api.function)
        self.worker.allow_nudge(self.stream.function)
        self.realtime = Realtime(self, "Realtime", publisher=self.worker.task_definition.task_role)
        self.frontend = Frontend(self, "Frontend", data=self.data, api=self.api, stream=self.stream, config=config)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            data=self.data,
            worker=self.worker,
            functions={"Api": self.api.function, "Stream": self.stream.function, "Exporter": self.exporter.function},
            api=self.api,
            config=config,
        )

        cdk.CfnOutput(self, "Url", value=f"https://{self.frontend.distribution.distribution_domain_name}", description="The app (SPA, API, stream)")
        cdk.CfnOutput(self, "ApiUrl", value=self.api.rest_api.url, description="API Gateway stage URL (behind CloudFront's Url; WAF rate rule)")
        cdk.CfnOutput(self, "StreamUrl", value=self.stream.url.url, description="SSE relay Function URL (AWS_IAM: only CloudFront may call it)")
        cdk.CfnOutput(self, "IntegratorRoleArn", value=self.realtime.integrator_role.role_arn)
        cdk.CfnOutput(self, "DataBucket", value=self.data.bucket.bucket_name)
        cdk.CfnOutput(self, "ClusterName", value=self.worker.cluster.cluster_name)
