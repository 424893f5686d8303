"""Creates the resources of `grabadora.resources` on an endpoint (the emulator or LocalStack)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from grabadora import aws
from grabadora.resources import BucketSpec, QueueSpec, Resources, TableSpec


def _create_table(spec: TableSpec) -> None:
    dynamodb = aws.client("dynamodb")
    keys = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    try:
        dynamodb.create_table(
            TableName=spec.name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k.name, "AttributeType": k.type} for k in keys],
            KeySchema=[
                {"AttributeName": k.name, "KeyType": "HASH" if i == 0 else "RANGE"} for i, k in enumerate(keys)
            ],
        )
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    dynamodb.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=spec.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
        )


def _create_queue(spec: QueueSpec) -> None:
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(
        QueueName=spec.dlq_name,
        Attributes={"MessageRetentionPeriod": str(spec.dlq_retention_days * 86400)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName=spec.name,
        Attributes={
            "VisibilityTimeout": str(spec.visibility_timeout_seconds),
            "ReceiveMessageWaitTimeSeconds": str(spec.receive_wait_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}),
        },
    )


def _create_bucket(spec: BucketSpec, region: str) -> None:
    s3 = aws.client("s3")
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=spec.name, **kwargs)
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    # Any origin locally: the page's origin is whichever host and port `grabadora dev` serves on.
    s3.put_bucket_cors(Bucket=spec.name, CORSConfiguration={"CORSRules": [cors_rule(spec, origins=["*"])]})


def cors_rule(spec: BucketSpec, *, origins: list[str]) -> dict:
    """The bucket's CORS rule (`grabadora.resources.CorsRule`) as S3's API spells it."""
    return {
        "AllowedMethods": list(spec.cors.allowed_methods),
        "AllowedOrigins": origins,
        "AllowedHeaders": list(spec.cors.allowed_headers),
        "ExposeHeaders": list(spec.cors.exposed_headers),
        "MaxAgeSeconds": spec.cors.max_age_seconds,
    }


def provision(resources: Resources, region: str) -> None:
    """Create every table, queue (with its DLQ) and the bucket; existing ones are kept."""
    for table in resources.tables:
        _create_table(table)
    for queue in resources.queues:
        _create_queue(queue)
    _create_bucket(resources.bucket, region)
