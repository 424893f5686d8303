"""Data: bucket, tables and queues, built from grabadora.resources."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

pytestmark = pytest.mark.infrastructure


def test_data_bucket_is_encrypted_private_tls_only_with_an_audio_lifecycle(synth, template, resources) -> None:
    bucket_id = synth.logical_id(synth.stack.data.bucket)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with([
                    Match.object_like({
                        "Id": "raw-audio",
                        "Prefix": resources.bucket.audio_prefix,
                        "Status": "Enabled",
                        "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}],
                    }),
                    Match.object_like({"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}),
                ])
            },
            "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "data/"},
        },
    )
    assert synth.json["Resources"][bucket_id]["DeletionPolicy"] == "Retain"
    # TLS only: a Deny on aws:SecureTransport=false for the bucket and its objects
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Statement": Match.array_with([
                    Match.object_like({"Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
                ])
            },
        },
    )


def test_every_table_in_resources_is_defined_with_its_keys_pitr_and_encryption(template, resources) -> None:
    assert len(resources.tables) == 5  # users, transcripts, events, user_state, live_frames
    for spec in resources.tables:
        keys = [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
        attributes = [{"AttributeName": spec.partition_key.name, "AttributeType": spec.partition_key.type}]
        if spec.sort_key:
            keys.append({"AttributeName": spec.sort_key.name, "KeyType": "RANGE"})
            attributes.append({"AttributeName": spec.sort_key.name, "AttributeType": spec.sort_key.type})
        template.has_resource_properties(
            "AWS::DynamoDB::Table",
            {
                "TableName": spec.name,
                "KeySchema": keys,
                "AttributeDefinitions": attributes,
                "BillingMode": "PAY_PER_REQUEST",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {"SSEEnabled": True},
                "TimeToLiveSpecification": (
                    {"AttributeName": spec.ttl_attribute, "Enabled": True} if spec.ttl_attribute else Match.absent()
                ),
            },
        )


def test_events_table_expires_items_by_ttl(template, resources) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"TableName": resources.events.name, "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True}},
    )


@pytest.mark.parametrize("name", ["jobs", "live", "exports"])
def test_queues_redrive_to_their_dlq_with_the_visibility_of_their_work(synth, template, resources, name: str) -> None:
    spec = getattr(resources, name)
    dlq_arn = Capture()
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": spec.name,
            "VisibilityTimeout": spec.visibility_timeout_seconds,
            "ReceiveMessageWaitTimeSeconds": spec.receive_wait_seconds,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count},
        },
    )
    dlq_id = dlq_arn.as_object()["Fn::GetAtt"][0]
    dlq = synth.json["Resources"][dlq_id]["Properties"]
    assert dlq["QueueName"] == spec.dlq_name
    assert dlq["MessageRetentionPeriod"] == spec.dlq_retention_days * 86400
    # Both queues refuse plain HTTP
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": Match.array_with([{"Ref": dlq_id}]),
            "PolicyDocument": {"Statement": Match.array_with([
                Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
            ])},
        },
    )


def test_the_jobs_visibility_timeout_matches_the_worker_setting(resources) -> None:
    from grabadora.settings import DevSettings

    settings = DevSettings(_env_file=None)
    assert resources.jobs.visibility_timeout_seconds == settings.visibility_timeout_seconds
    assert resources.jobs.max_receive_count == settings.max_receives == 3
