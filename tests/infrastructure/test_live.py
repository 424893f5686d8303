"""Live sessions (ARCHITECTURE 8): the frames table, the live queue, who may touch them, the
worker scaling on the live queue too, and /live/* reaching the API through CloudFront."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from aws_cdk.assertions import Capture, Match, Template

pytestmark = pytest.mark.infrastructure


def statements_of(synth, role) -> list[dict]:  # noqa: ANN001
    role_ref = {"Ref": synth.logical_id(role)}
    return [s for p in synth.resources("AWS::IAM::Policy").values() if role_ref in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def actions_on(statements: list[dict], resource_id: str) -> set[str]:
    """Every action of the statements whose resources name `resource_id`."""
    found: set[str] = set()
    for s in statements:
        if resource_id in str(s["Resource"]):
            found.update([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    return found


def test_frames_table_keys_ttl_billing_and_removal(synth, template, resources) -> None:
    spec = resources.live_frames
    assert (spec.partition_key.name, spec.partition_key.type, spec.sort_key.name, spec.sort_key.type) == ("live_id", "S", "seq", "N")
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like({
                "TableName": spec.name,
                "KeySchema": [{"AttributeName": "live_id", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
                "AttributeDefinitions": [{"AttributeName": "live_id", "AttributeType": "S"}, {"AttributeName": "seq", "AttributeType": "N"}],
                "BillingMode": "PAY_PER_REQUEST",
                "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
                "SSESpecification": {"SSEEnabled": True},
            }),
            # Transient (consumed frames are deleted, the recording goes to S3): destroyed with the stack
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        },
    )
    # …while the users' data stays
    assert synth.json["Resources"][synth.logical_id(synth.stack.data.events)]["DeletionPolicy"] == "Retain"
    assert synth.json["Resources"][synth.logical_id(synth.stack.data.transcripts)]["DeletionPolicy"] == "Retain"


def test_live_queue_redrives_to_its_dlq(synth, template, resources) -> None:
    spec = resources.live
    assert spec.max_receive_count == resources.jobs.max_receive_count
    assert spec.visibility_timeout_seconds == resources.jobs.visibility_timeout_seconds
    dlq_arn = Capture()
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": spec.name,
            "VisibilityTimeout": spec.visibility_timeout_seconds,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count},
        },
    )
    assert dlq_arn.as_object() == {"Fn::GetAtt": [synth.logical_id(synth.stack.data.live_dlq), "Arn"]}
    template.has_resource_properties(
        "AWS::SQS::Queue", {"QueueName": spec.dlq_name, "MessageRetentionPeriod": spec.dlq_retention_days * 86400}
    )
    # Plain HTTP is refused on both
    for queue in (synth.stack.data.live, synth.stack.data.live_dlq):
        template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": Match.array_with([{"Ref": synth.logical_id(queue)}]),
                "PolicyDocument": {"Statement": Match.array_with([
                    Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
                ])},
            },
        )


def test_api_only_puts_frames_and_sends_live_messages(synth, template) -> None:
    data = synth.stack.data
    role_id = synth.logical_id(synth.stack.api.function.role)
    frames, live = synth.logical_id(data.live_frames), synth.logical_id(data.live)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": role_id}],
            "PolicyDocument": {"Statement": Match.array_with([
                # (array_with keeps order: the grants are made in this order in infra_cdk/api.py)
                Match.object_like({"Action": Match.array_with(["sqs:SendMessage"]), "Effect": "Allow",
                                   "Resource": {"Fn::GetAtt": [live, "Arn"]}}),
                Match.object_like({"Action": "dynamodb:PutItem", "Effect": "Allow", "Resource": [{"Fn::GetAtt": [frames, "Arn"]}]}),
            ])},
        },
    )
    statements = statements_of(synth, synth.stack.api.function.role)
    # Least privilege: nothing but PutItem on the frames (no reads, no deletes), nothing on the DLQ
    assert actions_on(statements, frames) == {"dynamodb:PutItem"}
    assert actions_on(statements, live) == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    assert actions_on(statements, synth.logical_id(data.live_dlq)) == set()


def test_worker_consumes_the_live_queue_and_its_dlq_and_reads_and_deletes_frames(synth, template) -> None:
    data = synth.stack.data
    role = synth.stack.worker.task_definition.task_role
    consume = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"]
    for queue in (data.live, data.live_dlq):
        template.has_resource_properties(
            "AWS::IAM::Policy",
            {
                "Roles": [{"Ref": synth.logical_id(role)}],
                "PolicyDocument": {"Statement": Match.array_with([
                    Match.object_like({"Action": Match.array_with(consume), "Resource": {"Fn::GetAtt": [synth.logical_id(queue), "Arn"]}}),
                ])},
            },
        )
    frames = synth.logical_id(data.live_frames)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": synth.logical_id(role)}],
            "PolicyDocument": {"Statement": Match.array_with([
                Match.object_like({"Action": Match.array_with(["dynamodb:Query", "dynamodb:BatchWriteItem"]),
                                   "Resource": [{"Fn::GetAtt": [frames, "Arn"]}]}),
            ])},
        },
    )
    statements = statements_of(synth, role)
    assert {"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"} <= actions_on(statements, frames)
    # The finished recording goes to S3 under audio/
    put = [s for s in statements if "s3:PutObject" in s["Action"] and "/audio/*" in str(s["Resource"])]
    assert put and synth.logical_id(data.bucket) in str(put[0]["Resource"])


def test_scaling_counts_waiting_and_running_live_sessions(synth, template) -> None:
    jobs, live = synth.logical_id(synth.stack.data.jobs), synth.logical_id(synth.stack.data.live)
    expression = Capture()

    def stat(id_: str, queue: str, metric: str):  # noqa: ANN202
        return Match.object_like({"Id": id_, "MetricStat": Match.object_like({"Metric": {
            "Namespace": "AWS/SQS", "MetricName": metric,
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
        }, "Stat": "Maximum", "Period": 60})})

    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmDescription": Match.string_like_regexp("Upper threshold scaling alarm"),
            "Metrics": Match.array_with([
                Match.object_like({"Expression": expression, "ReturnData": True}),
                stat("visible", jobs, "ApproximateNumberOfMessagesVisible"),
                stat("inflight", jobs, "ApproximateNumberOfMessagesNotVisible"),
                stat("liveVisible", live, "ApproximateNumberOfMessagesVisible"),
                stat("liveInflight", live, "ApproximateNumberOfMessagesNotVisible"),
            ]),
        },
    )
    terms = {t.strip() for t in expression.as_string().split("+")}
    assert terms == {"visible", "inflight", "liveVisible", "liveInflight"}
    # Both scaling alarms (out and in) watch the same sum, so a running session also keeps its worker
    exprs = {str(a["Properties"].get("Metrics")) for a in synth.resources("AWS::CloudWatch::Alarm").values()
             if "scaling alarm" in a["Properties"].get("AlarmDescription", "")}
    assert len(exprs) == 1 and live in exprs.pop()


def first_behaviour(config: dict, path: str) -> dict:
    """What CloudFront does: the first cache behaviour whose pattern matches, else the default."""
    for b in config["CacheBehaviors"]:
        if fnmatchcase(path, b["PathPattern"]):
            return b
    return config["DefaultCacheBehavior"]


def test_live_paths_reach_the_api_through_cloudfront_and_api_gateway(synth, template) -> None:
    (config,) = [d["Properties"]["DistributionConfig"] for d in synth.resources("AWS::CloudFront::Distribution").values()]
    origins = {o["Id"]: o for o in config["Origins"]}
    api_origin = first_behaviour(config, "/transcripts")["TargetOriginId"]
    assert "execute-api" in str(origins[api_origin]["DomainName"])
    for path in ("/live", "/live/4f0c/audio", "/live/4f0c/stop"):
        b = first_behaviour(config, path)
        assert b["TargetOriginId"] == api_origin, path
        assert "POST" in b["AllowedMethods"] and b["ViewerProtocolPolicy"] == "https-only"
        assert b["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
        assert b["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader: ?seq= and Authorization
    # The session's event stream is the relay's, as for files; the SPA's own screen is /grabar
    assert "execute-api" not in str(origins[first_behaviour(config, "/transcribe/4f0c")["TargetOriginId"]]["DomainName"])
    assert "PathPattern" not in first_behaviour(config, "/grabar")

    # API Gateway: a greedy proxy at the root (no path list to keep in step), Lambda proxy integration
    fn_id = synth.logical_id(synth.stack.api.function)
    proxy = [k for k, v in synth.resources("AWS::ApiGateway::Resource").items()
             if v["Properties"]["PathPart"] == "{proxy+}" and "GetAtt" in str(v["Properties"]["ParentId"])]
    assert len(proxy) == 1
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {"HttpMethod": "ANY", "ResourceId": {"Ref": proxy[0]}, "ApiKeyRequired": Match.absent(),
         "Integration": Match.object_like({"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST"})},
    )
    method = next(m for m in synth.resources("AWS::ApiGateway::Method").values() if m["Properties"]["ResourceId"] == {"Ref": proxy[0]})
    assert fn_id in str(method["Properties"]["Integration"]["Uri"])
    # PCM frames (audio/pcm;rate=16000) arrive base64-encoded and intact, not as UTF-8 text
    template.has_resource_properties("AWS::ApiGateway::RestApi", {"BinaryMediaTypes": Match.array_with(["audio/*"])})


def test_live_names_reach_the_api_and_the_worker(synth, template) -> None:
    data = synth.stack.data
    frames = {"Ref": synth.logical_id(data.live_frames)}
    queue = {"Fn::GetAtt": [synth.logical_id(data.live), "QueueName"]}
    env = synth.json["Resources"][synth.logical_id(synth.stack.api.function)]["Properties"]["Environment"]["Variables"]
    assert env["GRABADORA_LIVE_FRAMES_TABLE"] == frames
    assert env["GRABADORA_LIVE_QUEUE"] == queue
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": [Match.object_like({
            "Environment": Match.array_with([
                {"Name": "GRABADORA_LIVE_FRAMES_TABLE", "Value": frames},
                {"Name": "GRABADORA_LIVE_QUEUE", "Value": queue},
            ]),
        })]},
    )


def test_live_dlq_alarms_and_the_live_queue_is_on_the_dashboard(synth, template) -> None:
    live_dlq = synth.logical_id(synth.stack.data.live_dlq)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Threshold": 1,
            # waiting + in flight (tests/infrastructure/test_first_deploy.py)
            "Metrics": Match.array_with([Match.object_like({"MetricStat": Match.object_like({"Metric": {
                "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [live_dlq, "QueueName"]}}],
            }})})]),
            "AlarmActions": [{"Ref": synth.logical_id(synth.stack.monitoring.topic)}],
        },
    )
    body = Capture()
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardBody": body})
    text = str(body.as_object())
    assert "Live sessions queue" in text
    assert synth.logical_id(synth.stack.data.live) in text and live_dlq in text


def synth_with(context: dict) -> Template:
    from infra_cdk.app import build_app

    app = build_app(context, nag=False)
    return Template.from_stack(app.node.find_child("Grabadora"))


def test_worker_min_tasks_keeps_a_warm_worker(tmp_path) -> None:
    (tmp_path / "dist").mkdir()
    template = synth_with({"workerMinTasks": 1, "frontendDistDir": str(tmp_path / "dist"), "dependenciesLayerDir": str(tmp_path / "none")})
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 1, "MaxCapacity": 2, "ScalableDimension": "ecs:service:DesiredCount"}
    )
    template.has_resource_properties("AWS::ECS::Service", {"DesiredCount": 1})
    # With nothing queued the lower step goes to the minimum, not to zero
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {"StepScalingPolicyConfiguration": Match.object_like({
            "StepAdjustments": [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": 1}],
        })},
    )


@pytest.mark.parametrize("value", [-1, 3])
def test_worker_min_tasks_must_fit_under_the_maximum(value: int) -> None:
    from infra_cdk.app import build_app

    with pytest.raises(ValueError, match="workerMinTasks"):
        build_app({"workerMinTasks": value}, nag=False)
