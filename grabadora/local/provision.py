"""Creates the resources of `grabadora.resources` on an endpoint (the emulator or LocalStack)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from grabadora import aws
from grabadora.resources import QueueSpec, Resources, TableSpec


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


def _create_bucket(name: str, region: str) -> None:
    s3 = aws.client("s3")
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=name, **kwargs)
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    # Browsers PUT audio straight to the presigned URL, cross-origin.
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["PUT", "GET"],
                    "AllowedOrigins": ["*"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )


def provision(resources: Resources, region: str) -> None:
    """Create every table, queue (with its DLQ) and the bucket; existing ones are kept."""
    for table in resources.tables:
        _create_table(table)
    for queue in resources.queues:
        _create_queue(queue)
    _create_bucket(resources.bucket.name, region)
