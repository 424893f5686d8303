"""The business metrics on AWS: every emitter writes EMF into the Grabadora namespace, the
dashboard shows every figure grabadora/metrics.py knows, and the alarms read them."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from grabadora.metrics import SERVICE, SPECS

pytestmark = pytest.mark.infrastructure


def test_the_worker_the_relay_and_the_api_write_emf_into_the_namespace(synth, template) -> None:
    namespace = {"Name": "GRABADORA_METRICS_NAMESPACE", "Value": "Grabadora"}
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition", {"ContainerDefinitions": [Match.object_like({"Environment": Match.array_with([namespace])})]},
    )
    for fn in (synth.stack.api.function, synth.stack.stream.function):
        env = synth.json["Resources"][synth.logical_id(fn)]["Properties"]["Environment"]["Variables"]
        assert env["GRABADORA_METRICS_NAMESPACE"] == "Grabadora"
    # EMF goes through the logs: nobody calls PutMetricData, so no role may.
    for policy in synth.resources("AWS::IAM::Policy").values():
        assert "cloudwatch:PutMetricData" not in json.dumps(policy["Properties"]["PolicyDocument"])


def test_the_dashboard_shows_every_business_figure(synth, template) -> None:
    dashboards = list(synth.resources("AWS::CloudWatch::Dashboard").values())
    assert len(dashboards) == 1
    body = json.dumps(dashboards[0]["Properties"]["DashboardBody"])
    for name in SPECS:
        assert f'\\"{name}\\"' in body, name
    assert f'\\"service\\",\\"{SERVICE}\\"' in body


@pytest.mark.parametrize(
    "metric, statistic, threshold",
    [("RealTimeFactor", "p90", 0.5), ("FirstWordLatency", "p90", 10), ("JobsFailed", None, 5)],
)
def test_business_alarms_read_the_emf_metrics(synth, template, metric: str, statistic: str | None, threshold: float) -> None:
    topic = synth.logical_id(synth.stack.monitoring.topic)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "Grabadora",
            "MetricName": metric,
            "Dimensions": [{"Name": "service", "Value": SERVICE}],
            "Threshold": threshold,
            "AlarmActions": [{"Ref": topic}],
            **({"ExtendedStatistic": statistic} if statistic else {"Statistic": "Sum"}),
        },
    )
