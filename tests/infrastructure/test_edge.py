"""Frontend (CloudFront + S3 with OAC) and Monitoring (dashboard, alarms)."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

pytestmark = pytest.mark.infrastructure

API_PATHS = ["/auth/*", "/uploads*", "/transcribe", "/transcripts*", "/me*", "/live", "/live/*", "/healthz", "/docs", "/openapi.json", "/shared/*"]


def distribution(synth) -> dict:  # noqa: ANN001
    (config,) = [d["Properties"]["DistributionConfig"] for d in synth.resources("AWS::CloudFront::Distribution").values()]
    return config


def test_spa_bucket_is_private_behind_origin_access_control(synth, template) -> None:
    site = synth.logical_id(synth.stack.frontend.bucket)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
         "BucketEncryption": Match.any_value(), "LoggingConfiguration": Match.object_like({"LogFilePrefix": "site/"})},
    )
    template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {"OriginAccessControlConfig": Match.object_like({"OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4"})},
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {"Bucket": {"Ref": site}, "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": "s3:GetObject", "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Condition": {"StringEquals": {"AWS:SourceArn": Match.any_value()}},
        })])}},
    )
    origins = distribution(synth)["Origins"]
    s3_origin = next(o for o in origins if "S3OriginConfig" in o)
    oac_id = s3_origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    assert synth.json["Resources"][oac_id]["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_api_and_stream_paths_share_the_spa_origin(synth, template) -> None:
    config = distribution(synth)
    origins = {o["Id"]: o for o in config["Origins"]}
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    # /v1/* reaches the same API with its own origin settings (tests/infrastructure/test_edge_access.py)
    assert set(behaviours) == {*API_PATHS, "/transcribe/*", "/v1/*"}
    api_origin = origins[behaviours["/auth/*"]["TargetOriginId"]]
    stream_origin = origins[behaviours["/transcribe/*"]["TargetOriginId"]]
    # API paths → the REST API's stage; the stream → the Function URL's host
    # The stage path (/api) is taken from the stage URL: https://{id}.execute-api.../api/
    assert "Fn::Select" in str(api_origin["OriginPath"]) and "execute-api" in str(api_origin["DomainName"])
    template.has_resource_properties("AWS::ApiGateway::Stage", {"StageName": "api"})
    assert synth.logical_id(synth.stack.stream.url) in str(stream_origin["DomainName"])
    for path in API_PATHS:
        b = behaviours[path]
        assert b["TargetOriginId"] == behaviours["/auth/*"]["TargetOriginId"]
        assert b["AllowedMethods"] == ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
        assert b["ViewerProtocolPolicy"] == "https-only"
        # no caching; every viewer header (Authorization) but Host reaches API Gateway
        assert b["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
        assert b["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    stream = behaviours["/transcribe/*"]
    assert stream["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert stream["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert stream_origin["CustomOriginConfig"]["OriginReadTimeout"] == 60


def test_spa_fallback_rewrites_only_extensionless_paths_on_the_s3_behaviour(synth, template) -> None:
    function_arn = Capture()
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {"DistributionConfig": Match.object_like({
            "DefaultRootObject": "index.html",
            "DefaultCacheBehavior": Match.object_like({
                "ViewerProtocolPolicy": "redirect-to-https",
                "FunctionAssociations": [{"EventType": "viewer-request", "FunctionARN": function_arn}],
            }),
            "Logging": Match.object_like({"Prefix": "cloudfront/"}),
        })},
    )
    fn_id = function_arn.as_object()["Fn::GetAtt"][0]
    code = synth.json["Resources"][fn_id]["Properties"]["FunctionCode"]
    assert "/index.html" in code and "indexOf('.')" in code
    # No custom error responses: those would turn the API's own 404s into index.html
    assert "CustomErrorResponses" not in distribution(synth)


def test_spa_is_deployed_from_its_build_when_present(synth, template) -> None:
    template.has_resource_properties(
        "Custom::CDKBucketDeployment",
        {"DestinationBucketName": {"Ref": synth.logical_id(synth.stack.frontend.bucket)}, "DistributionPaths": ["/*"]},
    )


@pytest.mark.parametrize(
    "metric, namespace, threshold",
    [
        ("ApproximateAgeOfOldestMessage", "AWS/SQS", 900),
        ("Errors", "AWS/Lambda", 1),
        ("RealTimeFactor", "Grabadora", 0.5),
    ],
)
def test_alarms_notify_the_alarm_topic(synth, template, metric: str, namespace: str, threshold: float) -> None:
    topic = synth.logical_id(synth.stack.monitoring.topic)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": metric, "Namespace": namespace, "Threshold": threshold, "AlarmActions": [{"Ref": topic}]},
    )


def test_each_dlq_and_each_function_has_its_alarm(synth, template) -> None:
    alarms = synth.resources("AWS::CloudWatch::Alarm").values()
    dims = [str(a["Properties"].get("Dimensions")) for a in alarms]
    # DLQ depth is metric math (waiting + in flight): the queue is in the alarm's Metrics
    metrics = [str(a["Properties"].get("Metrics")) for a in alarms]
    for queue in (synth.stack.data.jobs_dlq, synth.stack.data.exports_dlq):
        assert any(synth.logical_id(queue) in m for m in metrics)
    for fn in (synth.stack.api.function, synth.stack.stream.function, synth.stack.exporter.function):
        assert any(synth.logical_id(fn) in d and "Errors" in str(a["Properties"].get("MetricName"))
                   for a, d in zip(alarms, dims))
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    body = Capture()
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardBody": body})
    assert "RealTimeFactor" in str(body.as_object()) and "ApproximateAgeOfOldestMessage" in str(body.as_object())
