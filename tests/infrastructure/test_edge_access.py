"""The public entry: the relay's Function URL answers only CloudFront (origin access control,
AWS_IAM), a rate-based web ACL on the distribution, and `/v1` served through API Gateway's
response streaming from the stream function, with its size limit at the edge."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from infra_cdk.frontend import OPENAI_MAX_BODY_BYTES
from infra_cdk.stream import OPENAI_MAX_FILE_MB, OPENAI_READ_TIMEOUT_SECONDS, OPENAI_WAIT_SECONDS

pytestmark = pytest.mark.infrastructure

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def distribution(synth) -> dict:  # noqa: ANN001
    (config,) = [d["Properties"]["DistributionConfig"] for d in synth.resources("AWS::CloudFront::Distribution").values()]
    return config


def behaviour(synth, path: str) -> tuple[dict, dict]:  # noqa: ANN001
    config = distribution(synth)
    b = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == path)
    origin = next(o for o in config["Origins"] if o["Id"] == b["TargetOriginId"])
    return b, origin


def test_the_stream_function_url_answers_only_requests_cloudfront_signs(synth, template) -> None:
    stream_fn = synth.logical_id(synth.stack.stream.function)
    url = synth.logical_id(synth.stack.stream.url)
    # The URL itself demands SigV4 (AWS_IAM): unsigned requests from the internet get 403
    template.has_resource_properties(
        "AWS::Lambda::Url",
        {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM", "TargetFunctionArn": {"Fn::GetAtt": [stream_fn, "Arn"]}},
    )
    # CloudFront signs every request to it with a Lambda origin access control...
    b, origin = behaviour(synth, "/transcribe/*")
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    oac = synth.json["Resources"][oac_id]
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "lambda"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningProtocol"] == "sigv4"
    assert url in str(origin["DomainName"])
    # ...and only this distribution may invoke it: both permissions Lambda asks of a URL origin
    distribution_id = synth.logical_id(synth.stack.frontend.distribution)
    source = Match.object_like({"Fn::Join": ["", Match.array_with([":distribution/", {"Ref": distribution_id}])]})
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunctionUrl", "Principal": "cloudfront.amazonaws.com", "SourceArn": source,
         "FunctionName": {"Fn::GetAtt": [url, "FunctionArn"]}},
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunction", "Principal": "cloudfront.amazonaws.com", "SourceArn": source,
         "InvokedViaFunctionUrl": True},
    )
    # No permission lets anyone else call the URL
    for permission in synth.resources("AWS::Lambda::Permission").values():
        if permission["Properties"]["Action"] == "lambda:InvokeFunctionUrl":
            assert permission["Properties"]["Principal"] == "cloudfront.amazonaws.com"
            assert "FunctionUrlAuthType" not in permission["Properties"]
    # Lambda takes no unsigned payload through such an origin (a POST would need the viewer's
    # x-amz-content-sha256): the signed origin carries GETs only
    assert b["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert all(ob["TargetOriginId"] != b["TargetOriginId"] or "POST" not in ob["AllowedMethods"]
               for ob in distribution(synth)["CacheBehaviors"])


def test_the_distribution_has_a_rate_based_web_acl_where_cloudfront_can_take_one(synth, template) -> None:
    acl = synth.stack.frontend.edge_web_acl
    acl_id = synth.stack.resolve(acl.logical_id)
    template.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {"Scope": "CLOUDFRONT", "DefaultAction": {"Allow": {}}, "Rules": [Match.object_like({
            "Action": {"Block": {}},
            "Statement": {"RateBasedStatement": {"AggregateKeyType": "IP", "Limit": 2000}},
        })]},
    )
    # A CloudFront web ACL must be made in us-east-1: the template makes it there, and only there
    resource = synth.json["Resources"][acl_id]
    condition = resource["Condition"]
    assert synth.json["Conditions"][condition] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    assert distribution(synth)["WebACLId"] == {"Fn::If": [condition, {"Fn::GetAtt": [acl_id, "Arn"]}, {"Ref": "AWS::NoValue"}]}


def test_an_existing_edge_web_acl_is_attached_by_its_arn(tmp_path) -> None:
    from aws_cdk.assertions import Template

    from infra_cdk.app import build_app

    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/grabadora-edge/abcd"
    app = build_app({"edgeWebAclArn": arn, "frontendDistDir": str(tmp_path / "none")}, nag=False, outdir=str(tmp_path / "out"))
    template = Template.from_stack(app.node.find_child("Grabadora"))
    template.has_resource_properties("AWS::CloudFront::Distribution", {"DistributionConfig": Match.object_like({"WebACLId": arn})})
    template.resource_properties_count_is("AWS::WAFv2::WebACL", {"Scope": "CLOUDFRONT"}, 0)


def test_v1_is_streamed_from_the_stream_function_through_api_gateway(synth, template) -> None:
    stream_fn = synth.logical_id(synth.stack.stream.function)
    resources = synth.resources("AWS::ApiGateway::Resource")
    v1 = {k for k, v in resources.items() if v["Properties"]["PathPart"] == "v1"}
    v1 |= {k for k, v in resources.items() if v["Properties"].get("ParentId") in [{"Ref": i} for i in v1]}
    methods = [m["Properties"] for m in synth.resources("AWS::ApiGateway::Method").values()
               if m["Properties"]["ResourceId"] in [{"Ref": i} for i in v1]]
    assert len(methods) == 2  # /v1 and /v1/{proxy+}
    for method in methods:
        integration = method["Integration"]
        # Response streaming: up to 15 minutes instead of 29 s, through the streaming invoke path
        assert integration["Type"] == "AWS_PROXY" and integration["ResponseTransferMode"] == "STREAM"
        assert integration["TimeoutInMillis"] == 900_000
        assert "response-streaming-invocations" in str(integration["Uri"]) and stream_fn in str(integration["Uri"])
        # No API Gateway key: OpenAI's SDKs send only their bearer, which the app checks
        assert method.get("ApiKeyRequired", False) is False
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com", "FunctionName": {"Fn::GetAtt": [stream_fn, "Arn"]}},
    )
    template.resource_count_is("AWS::ApiGateway::UsagePlan", 0)
    template.resource_count_is("AWS::ApiGateway::ApiKey", 0)


def test_v1_behaviour_waits_longer_and_refuses_oversized_bodies_at_the_edge(synth, template) -> None:
    b, origin = behaviour(synth, "/v1/*")
    assert "execute-api" in str(origin["DomainName"])
    assert "POST" in b["AllowedMethods"] and b["ViewerProtocolPolicy"] == "https-only"
    assert b["CachePolicyId"] == CACHING_DISABLED and b["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # Authorization reaches the app
    assert origin["CustomOriginConfig"]["OriginReadTimeout"] == OPENAI_READ_TIMEOUT_SECONDS == 120  # CloudFront's default ceiling
    (association,) = b["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    code = synth.json["Resources"][association["FunctionARN"]["Fn::GetAtt"][0]]["Properties"]["FunctionCode"]
    assert "content-length" in code and str(OPENAI_MAX_BODY_BYTES) in code and "statusCode: 413" in code
    # The app's own limits on the stream function: the file size, and an answer (its own 504 with
    # the job id) before CloudFront would give up on a request that waits for the transcript
    env = synth.json["Resources"][synth.logical_id(synth.stack.stream.function)]["Properties"]["Environment"]["Variables"]
    assert env["GRABADORA_OPENAI_MAX_FILE_MB"] == str(OPENAI_MAX_FILE_MB)
    assert int(env["GRABADORA_OPENAI_WAIT_SECONDS"]) == OPENAI_WAIT_SECONDS < OPENAI_READ_TIMEOUT_SECONDS
    # A 4 MB file, base64 (4/3) in a Lambda invocation of at most 6 MB, with room for the form
    assert OPENAI_MAX_BODY_BYTES * 4 / 3 < 6 * 1024 * 1024 - 64 * 1024


def test_the_stream_function_may_do_what_v1_does(synth) -> None:
    stack = synth.stack
    role = stack.stream.function.role
    actions = synth.role_actions(role)
    assert {"s3:PutObject", "s3:GetObject*", "sqs:SendMessage", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"} <= actions
    assert not any(a.startswith("s3:DeleteObject") for a in actions)
    statements = [s for p in synth.resources("AWS::IAM::Policy").values()
                  if {"Ref": synth.logical_id(role)} in p["Properties"]["Roles"]
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]

    def resources_of(action: str) -> str:
        return str([s["Resource"] for s in statements if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])])

    assert "/audio/*" in resources_of("s3:PutObject") and "/transcripts/*" not in resources_of("s3:PutObject")
    assert "/transcripts/*" in resources_of("s3:GetObject*")
    assert synth.logical_id(stack.data.jobs) in resources_of("sqs:SendMessage")
