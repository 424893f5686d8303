"""Exporter: the SQS batch handler (Notion, Trello, webhooks) with partial batch responses."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from grabadora.resources import EXPORTER
from infra_cdk.common import Shared
from infra_cdk.config import DeployConfig
from infra_cdk.data import Data
from infra_cdk.nag import S3_READ_ACTIONS, s3_grant_findings, suppress


class Exporter(Construct):
    def __init__(self, scope: Construct, id: str, *, data: Data, shared: Shared, config: DeployConfig, environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        spec = EXPORTER  # timeout and batch size, shared with the local stack
        self.function = shared.function(
            self,
            "Function",
            handler="functions.exporter.handler.lambda_handler",
            environment={**environment, "POWERTOOLS_SERVICE_NAME": "grabadora-exporter"},
            timeout=cdk.Duration.seconds(spec.timeout_seconds),
            memory_size=512,
            description="Grabadora exporter (SQS → Notion, Trello, webhook)",
        )
        fn = self.function
        data.transcripts.grant_read_write_data(fn)  # reads the item, records each delivery's outcome
        data.user_state.grant_read_data(fn)  # the user's integration settings (encrypted secrets)
        data.bucket.grant_read(fn, "transcripts/*")  # the transcript document
        suppress(fn, s3_grant_findings(data.bucket, ["transcripts/*"], S3_READ_ACTIONS, "Read-only, transcript documents of any user (the message names which)."))
        # Receive/delete come with the event source; ChangeMessageVisibility (back-off) with it too.
        fn.add_event_source(
            sources.SqsEventSource(
                data.exports,
                batch_size=spec.batch_size,
                report_batch_item_failures=True,
                max_concurrency=5,
            )
        )
