"""Data: the bucket, the DynamoDB tables and the SQS queues (+ DLQs), from `grabadora.resources`."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from grabadora.resources import QueueSpec, Resources, TableSpec
from infra_cdk.config import DeployConfig


class Data(Construct):
    def __init__(self, scope: Construct, id: str, *, resources: Resources, config: DeployConfig) -> None:
        super().__init__(scope, id)
        self.resources = resources

        # Server access logs of the data and frontend buckets (and CloudFront's standard logs,
        # which need ACLs: hence object-writer ownership on this one bucket only).
        self.logs_bucket = s3.Bucket(
            self,
            "LogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=cdk.Duration.days(90))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        spec = resources.bucket
        audio_transitions = [
            s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=cdk.Duration.days(config.audio_ia_days)),
        ]
        audio_rule = s3.LifecycleRule(
            id="raw-audio",
            prefix=spec.audio_prefix,
            transitions=audio_transitions,
            expiration=cdk.Duration.days(config.audio_expiration_days) if config.audio_expiration_days else None,
        )
        # No bucket name: S3 names are global, so CloudFormation picks one and the functions are
        # told it through GRABADORA_BUCKET.
        self.bucket = s3.Bucket(
            self,
            spec.logical_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix="data/",
            lifecycle_rules=[
                audio_rule,
                s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(7)),
                # A long job's checkpoints (gpu_container/checkpoints.py) go when it ends; these
                # catch any left by a job that ended where nobody could delete them.
                s3.LifecycleRule(id="expire-checkpoints", prefix="checkpoints/", expiration=cdk.Duration.days(7)),
                # Share links' audio copies (grabadora/services/shares.py) go with their link; a
                # link lasts at most 90 days, so this catches any an expired link left behind.
                s3.LifecycleRule(id="expire-shared-audio", prefix="shared/", expiration=cdk.Duration.days(91)),
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
            # The rule is grabadora.resources.CorsRule. Naming the CloudFront origin here would
            # make a dependency cycle (bucket → distribution → API → function policy → bucket), so
            # the origins are a context value.
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods(m) for m in spec.cors.allowed_methods],
                    allowed_origins=config.cors_origins,
                    allowed_headers=list(spec.cors.allowed_headers),
                    exposed_headers=list(spec.cors.exposed_headers),
                    max_age=spec.cors.max_age_seconds,
                )
            ],
        )

        # Live frames are transient: each is deleted once its worker has consumed it, the TTL
        # clears abandoned sessions, and the finished recording is stored in S3 (audio/). So
        # `cdk destroy` deletes that table (DESTROY) instead of leaving an orphan whose fixed name
        # would make the next deploy fail; every other table is RETAINed (users' data).
        transient = {resources.live_frames.logical_id}
        self.tables: dict[str, dynamodb.Table] = {
            t.logical_id: self._table(t, cdk.RemovalPolicy.DESTROY if t.logical_id in transient else cdk.RemovalPolicy.RETAIN)
            for t in resources.tables
        }
        self.users = self.tables[resources.users.logical_id]
        self.transcripts = self.tables[resources.transcripts.logical_id]
        self.events = self.tables[resources.events.logical_id]
        self.user_state = self.tables[resources.user_state.logical_id]
        self.live_frames = self.tables[resources.live_frames.logical_id]

        self.jobs, self.jobs_dlq = self._queue(resources.jobs)
        self.live, self.live_dlq = self._queue(resources.live)
        self.exports, self.exports_dlq = self._queue(resources.exports)

    def _table(self, spec: TableSpec, removal_policy: cdk.RemovalPolicy) -> dynamodb.Table:
        key = lambda k: dynamodb.Attribute(name=k.name, type=dynamodb.AttributeType(  # noqa: E731
            {"S": "STRING", "N": "NUMBER", "B": "BINARY"}[k.type]))
        return dynamodb.Table(
            self,
            spec.logical_id,
            table_name=spec.name,
            partition_key=key(spec.partition_key),
            sort_key=key(spec.sort_key) if spec.sort_key else None,
            time_to_live_attribute=spec.ttl_attribute,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
            removal_policy=removal_policy,
        )

    def _queue(self, spec: QueueSpec) -> tuple[sqs.Queue, sqs.Queue]:
        dlq = sqs.Queue(
            self,
            f"{spec.logical_id}Dlq",
            queue_name=spec.dlq_name,
            retention_period=cdk.Duration.days(spec.dlq_retention_days),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        queue = sqs.Queue(
            self,
            spec.logical_id,
            queue_name=spec.name,
            visibility_timeout=cdk.Duration.seconds(spec.visibility_timeout_seconds),
            receive_message_wait_time=cdk.Duration.seconds(spec.receive_wait_seconds),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
        )
        return queue, dlq

    def names_environment(self) -> dict[str, str]:
        """The `GRABADORA_*` names every function and the worker read."""
        r = self.resources
        return {
            "GRABADORA_USERS_TABLE": self.users.table_name,
            "GRABADORA_TRANSCRIPTS_TABLE": self.transcripts.table_name,
            "GRABADORA_EVENTS_TABLE": self.events.table_name,
            "GRABADORA_USER_STATE_TABLE": self.user_state.table_name,
            "GRABADORA_LIVE_FRAMES_TABLE": self.live_frames.table_name,
            "GRABADORA_JOBS_QUEUE": self.jobs.queue_name,
            "GRABADORA_LIVE_QUEUE": self.live.queue_name,
            "GRABADORA_EXPORTS_QUEUE": self.exports.queue_name,
            "GRABADORA_BUCKET": self.bucket.bucket_name,
            "GRABADORA_VISIBILITY_TIMEOUT_SECONDS": str(r.jobs.visibility_timeout_seconds),
            "GRABADORA_MAX_RECEIVES": str(r.jobs.max_receive_count),
            "GRABADORA_REGION": cdk.Aws.REGION,
        }
