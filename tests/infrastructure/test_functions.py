"""Api, Stream and Exporter: handlers, streaming settings, event source, and each role's exact actions."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

from benchmarks.relay import AWS_POLL

pytestmark = pytest.mark.infrastructure

XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
DDB_READ = {
    "dynamodb:BatchGetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:Query",
    "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
}
DDB_WRITE = {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
S3_READ = {"s3:GetObject*", "s3:GetBucket*", "s3:List*"}
S3_WRITE = {"s3:DeleteObject*", "s3:PutObject", "s3:PutObjectLegalHold", "s3:PutObjectRetention",
            "s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:Abort*"}
SQS_SEND = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
SECRETS = {"secretsmanager:GetSecretValue"}
WORKER_NUDGE = {"ecs:DescribeServices", "ecs:UpdateService", "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:PutScheduledAction"}
SQS_CONSUME = {"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


def function_props(synth, fn) -> dict:  # noqa: ANN001
    return synth.json["Resources"][synth.logical_id(fn)]["Properties"]


def test_api_lambda_is_mangum_with_powertools_and_active_tracing(synth, template) -> None:
    props = function_props(synth, synth.stack.api.function)
    assert props["Handler"] == "functions.api.handler.handler"
    assert props["Runtime"] == "python3.11"
    assert props["TracingConfig"] == {"Mode": "Active"}
    env = props["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "grabadora-api" and env["POWERTOOLS_METRICS_NAMESPACE"] == "Grabadora"
    # Names come from the resources; secrets are named by ARN and read at run time
    assert env["GRABADORA_USERS_TABLE"] == {"Ref": synth.logical_id(synth.stack.data.users)}
    assert env["GRABADORA_JWT_SECRET_ARN"] == {"Ref": synth.logical_id(synth.stack.shared.jwt_secret)}
    assert "GRABADORA_JWT_SECRET_KEY" not in env
    assert len(props["Layers"]) == 1  # the dependency layer (the stand-in directory exists)


def test_api_role_gets_exactly_its_grants(synth) -> None:
    actions = synth.role_actions(synth.stack.api.function.role)
    assert actions == XRAY | DDB_READ | DDB_WRITE | S3_READ | S3_WRITE | SQS_SEND | SECRETS | WORKER_NUDGE


def test_rest_api_is_throttled_and_no_route_needs_an_api_gateway_key(synth, template) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "api",
            "TracingEnabled": True,
            "MethodSettings": Match.array_with([Match.object_like({
                "HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100,
            })]),
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )
    # The app authenticates every route itself (bearer JWT, or a Grabadora API key on /v1/*):
    # an API Gateway key, which OpenAI's SDKs never send, would only turn /v1 into a 403
    template.resource_count_is("AWS::ApiGateway::UsagePlan", 0)
    template.resource_count_is("AWS::ApiGateway::ApiKey", 0)
    for method in synth.resources("AWS::ApiGateway::Method").values():
        assert method["Properties"].get("ApiKeyRequired", False) is False
        assert method["Properties"]["Integration"]["Type"] == "AWS_PROXY"


def test_stream_runs_under_the_web_adapter_in_response_stream_mode(synth, template) -> None:
    props = function_props(synth, synth.stack.stream.function)
    assert props["Handler"] == "functions/stream/run.sh"
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "functions/stream/run.sh",
            "Environment": {"Variables": Match.object_like({
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                "AWS_LWA_INVOKE_MODE": "response_stream",
                "AWS_LWA_PORT": "8080",
                "PORT": "8080",
                # No worker in its process to wake it: it polls at the interval the relay
                # benchmark measures as the AWS shape (docs/BENCHMARKS.md)
                **AWS_POLL,
            })},
            "Layers": Match.array_with([
                {"Fn::Sub": "arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:25"}
            ]),
            "Timeout": 900,
        },
    )
    url = Capture()
    template.has_resource_properties(
        "AWS::Lambda::Url",
        {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM", "TargetFunctionArn": url},
    )
    assert url.as_object() == {"Fn::GetAtt": [synth.logical_id(synth.stack.stream.function), "Arn"]}


def test_stream_role_reads_streams_and_submits_v1_jobs_but_deletes_nothing(synth) -> None:
    stack = synth.stack
    # Streams: read transcripts and events, stream-slot leases in user-state, the JWT secret;
    # /v1: a job's item, quota and turns, its audio under audio/, the jobs queue, the result;
    # and starting a sleeping worker service
    assert synth.role_actions(stack.stream.function.role) == (
        XRAY | DDB_READ | DDB_WRITE | SECRETS | SQS_SEND | S3_READ | (S3_WRITE - {"s3:DeleteObject*"}) | WORKER_NUDGE
    )
    policies = [p for p in synth.resources("AWS::IAM::Policy").values()
                if {"Ref": synth.logical_id(stack.stream.function.role)} in p["Properties"]["Roles"]]
    resources = str([s["Resource"] for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]])
    assert synth.logical_id(stack.data.transcripts) in resources and synth.logical_id(stack.data.events) in resources
    assert synth.logical_id(stack.data.users) not in resources


def test_exporter_consumes_exports_with_partial_batch_responses(synth, template, resources) -> None:
    fn_id = synth.logical_id(synth.stack.exporter.function)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": fn_id},
            "EventSourceArn": {"Fn::GetAtt": [synth.logical_id(synth.stack.data.exports), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": 2,
        },
    )
    props = function_props(synth, synth.stack.exporter.function)
    assert props["Handler"] == "functions.exporter.handler.lambda_handler"
    # A batch must finish before its messages become visible again
    assert props["Timeout"] < resources.exports.visibility_timeout_seconds


def test_exporter_role_gets_exactly_its_grants(synth) -> None:
    assert synth.role_actions(synth.stack.exporter.function.role) == XRAY | DDB_READ | DDB_WRITE | S3_READ | SQS_CONSUME | SECRETS


def test_functions_have_their_own_roles(synth) -> None:
    stack = synth.stack
    roles = {synth.logical_id(f.role) for f in (stack.api.function, stack.stream.function, stack.exporter.function)}
    assert len(roles) == 3
