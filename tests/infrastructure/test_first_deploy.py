"""What a first real deploy needs (issue 20), as CDK assertions on the synthesised template:
the worker image's platform and a supported GPU AMI; secrets read at run time, none in any
environment; reserved concurrency and a stream limit under Lambda's; stage-qualified names;
dead-letter alarms that count in-flight messages; throttle, 5xx and DynamoDB alarms."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

pytestmark = pytest.mark.infrastructure

SECRET_NAMES = ("JWT_SECRET_KEY", "SECRETS_KEY", "SECRET_KEY")


def _fn_props(synth, fn) -> dict:  # noqa: ANN001
    return synth.json["Resources"][synth.logical_id(fn)]["Properties"]


def _statements(synth, role) -> list[dict]:  # noqa: ANN001
    role_id = synth.logical_id(role)
    return [s for p in synth.resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


# 1. The image and the AMI --------------------------------------------------------------------

def test_the_worker_image_is_built_for_amd64(synth) -> None:
    assets = json.loads((synth.outdir / "Grabadora.assets.json").read_text())
    images = list(assets["dockerImages"].values())
    assert len(images) == 1
    assert images[0]["source"]["platform"] == "linux/amd64"


def test_the_gpu_instances_run_the_amazon_linux_2023_gpu_ecs_ami(synth, template) -> None:
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {"LaunchTemplateData": Match.object_like({"ImageId": {"Ref": Match.string_like_regexp("amazonlinux2023gpu")}})},
    )
    parameters = synth.json["Parameters"]
    ssm = [p["Default"] for k, p in parameters.items() if "amazonlinux2023gpu" in k.lower()]
    assert ssm == ["/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"]
    assert not [k for k in parameters if "amazonlinux2gpu" in k.lower()]  # AL2 (end of support 2026-06-30) gone


# 4. Secrets ----------------------------------------------------------------------------------

def test_no_environment_variable_holds_a_secret(synth) -> None:
    for fn in synth.resources("AWS::Lambda::Function").values():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert "secretsmanager" not in json.dumps(env)
        assert not [k for k in env if k.endswith(SECRET_NAMES)], env.keys()
    for task in synth.resources("AWS::ECS::TaskDefinition").values():
        for container in task["Properties"]["ContainerDefinitions"]:
            assert "Secrets" not in container  # the worker needs no key at all
            names = {e["Name"] for e in container["Environment"]}
            assert not [n for n in names if n.endswith(SECRET_NAMES) or n.endswith("_ARN")]


def test_each_function_names_and_may_read_exactly_its_own_secrets(synth) -> None:
    stack = synth.stack
    jwt = {"Ref": synth.logical_id(stack.shared.jwt_secret)}
    fernet = {"Ref": synth.logical_id(stack.shared.secrets_key)}
    expected = {
        "api": (stack.api.function, [jwt, fernet]),
        "stream": (stack.stream.function, [jwt]),
        "exporter": (stack.exporter.function, [fernet]),
    }
    for name, (fn, secrets) in expected.items():
        env = _fn_props(synth, fn)["Environment"]["Variables"]
        assert env.get("GRABADORA_JWT_SECRET_ARN") == (jwt if jwt in secrets else None), name
        assert env.get("GRABADORA_SECRETS_KEY_ARN") == (fernet if fernet in secrets else None), name
        reads = [s for s in _statements(synth, fn.role) if "secretsmanager" in json.dumps(s["Action"])]
        assert reads == [{"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": secrets if len(secrets) > 1 else secrets[0],
                          "Sid": "ReadAppSecrets"}], name
    for role in (stack.worker.task_definition.task_role, stack.worker.task_definition.obtain_execution_role()):
        assert "secretsmanager" not in json.dumps(_statements(synth, role))


# 2 and 5. The relay --------------------------------------------------------------------------

def test_the_relay_has_reserved_concurrency_and_ends_streams_before_lambda_does(synth) -> None:
    props = _fn_props(synth, synth.stack.stream.function)
    assert props["ReservedConcurrentExecutions"] == 20
    env = props["Environment"]["Variables"]
    assert int(env["GRABADORA_STREAM_MAX_SECONDS"]) == 840 < props["Timeout"] == 900
    assert int(env["GRABADORA_STREAM_RETRY_MS"]) > 0
    assert int(env["GRABADORA_STREAMS_PER_USER"]) == 5
    # The per-user stream leases live in the user-state table: get, put, update there (the rest
    # of its read/write grant is /v1's: API keys, quota and turns, tests/infrastructure/test_edge_access.py)
    user_state = synth.logical_id(synth.stack.data.user_state)
    leases = [s for s in _statements(synth, synth.stack.stream.function.role) if user_state in json.dumps(s["Resource"])]
    assert leases and {a for s in leases for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])} >= {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}


@pytest.mark.parametrize("value", [0, 900, 1200])
def test_stream_max_seconds_must_stay_under_lambdas_limit(value: int) -> None:
    from infra_cdk.app import build_app

    with pytest.raises(ValueError, match="streamMaxSeconds"):
        build_app({"streamMaxSeconds": value}, nag=False)


# 5. Names --------------------------------------------------------------------------------------

def test_resource_names_are_stage_qualified_and_passed_to_every_consumer(synth, template) -> None:
    for table in synth.resources("AWS::DynamoDB::Table").values():
        assert table["Properties"]["TableName"].startswith("grabadora-prod-")
    for queue in synth.resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["QueueName"].startswith("grabadora-prod-")
    env = _fn_props(synth, synth.stack.api.function)["Environment"]["Variables"]
    assert env["GRABADORA_STAGE"] == "prod"


# 3 and 5. Alarms -------------------------------------------------------------------------------

def _alarm(synth, name: str) -> dict:  # noqa: ANN001
    alarm = synth.stack.monitoring.alarms[name]
    return synth.json["Resources"][synth.logical_id(alarm)]["Properties"]


def test_dead_letter_alarms_count_waiting_and_in_flight_messages(synth) -> None:
    for name, queue in (("JobsDlqDepth", synth.stack.data.jobs_dlq), ("LiveDlqDepth", synth.stack.data.live_dlq),
                        ("ExportsDlqDepth", synth.stack.data.exports_dlq)):
        props = _alarm(synth, name)
        assert props["Threshold"] == 1
        metrics = props["Metrics"]
        assert {m.get("Expression") for m in metrics if "Expression" in m} == {"visible + inflight"}
        watched = {(m["MetricStat"]["Metric"]["MetricName"], json.dumps(m["MetricStat"]["Metric"]["Dimensions"]))
                   for m in metrics if "MetricStat" in m}
        dims = json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [synth.logical_id(queue), "QueueName"]}}])
        assert watched == {("ApproximateNumberOfMessagesVisible", dims), ("ApproximateNumberOfMessagesNotVisible", dims)}


def test_throttles_api_5xx_and_dynamodb_throttles_alarm(synth) -> None:
    topic = {"Ref": synth.logical_id(synth.stack.monitoring.topic)}
    for name, fn in (("Api", synth.stack.api.function), ("Stream", synth.stack.stream.function), ("Exporter", synth.stack.exporter.function)):
        props = _alarm(synth, f"{name}Throttles")
        assert props["MetricName"] == "Throttles" and props["Namespace"] == "AWS/Lambda"
        assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": synth.logical_id(fn)}}]
        assert props["AlarmActions"] == [topic]
    api5xx = _alarm(synth, "Api5xx")
    assert api5xx["MetricName"] == "5XXError" and api5xx["Namespace"] == "AWS/ApiGateway"
    ddb = _alarm(synth, "DynamoDbThrottles")
    watched = {(m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"])
               for m in ddb["Metrics"] if "MetricStat" in m}
    tables = {synth.logical_id(t) for t in synth.stack.data.tables.values()}
    assert watched == {(kind, t) for kind in ("ReadThrottleEvents", "WriteThrottleEvents") for t in tables}


# A WAF rate rule on the public API stage ------------------------------------------------------

def test_the_api_stage_has_a_waf_rate_rule_per_client_ip(synth, template) -> None:
    template.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {"Scope": "REGIONAL", "DefaultAction": {"Allow": {}}, "Rules": [Match.object_like({
            "Name": "RatePerIp", "Action": {"Block": {}},
            "Statement": {"RateBasedStatement": Match.object_like({"Limit": 2000, "AggregateKeyType": "FORWARDED_IP"})},
        })]},
    )
    acl = synth.stack.resolve(synth.stack.get_logical_id(synth.stack.api.web_acl))
    association = next(iter(synth.resources("AWS::WAFv2::WebACLAssociation").values()))["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl, "Arn"]}
    assert "RestApi" in json.dumps(association["ResourceArn"]) and "/stages/" in json.dumps(association["ResourceArn"])


# IoT scoped per user ------------------------------------------------------------------------------

def test_an_integrator_session_sees_only_its_tagged_users_topics(synth) -> None:
    role = synth.stack.realtime.integrator_role
    statements = {s.get("Sid"): s for s in _statements(synth, role)}
    user = "${aws:PrincipalTag/grabadora_user}"
    assert f"topicfilter/grabadora/{user}/*" in json.dumps(statements["Subscribe"]["Resource"])
    assert f"topic/grabadora/{user}/jobs/*/events" in json.dumps(statements["Receive"]["Resource"])
    assert "grabadora/*" not in json.dumps([statements["Subscribe"], statements["Receive"]])
    trust = synth.json["Resources"][synth.logical_id(role)]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    actions = {a for s in trust for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"sts:AssumeRole", "sts:TagSession"}
    assert all(s.get("Condition") == {"StringLike": {"aws:RequestTag/grabadora_user": "?*"}} for s in trust)
