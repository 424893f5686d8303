"""CDK and the emulator's provisioning read the same definitions (grabadora.resources), and a
synth reads nothing of the machine's GRABADORA_* variables.

The emulator side is what `grabadora dev` provisions; the CDK side is the synthesised template.
A value written again on one side (the bucket's CORS rule, a queue's visibility timeout, the
exporter's timeout or batch size) fails here as soon as the two disagree.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from grabadora.local.exporter_runner import ExporterRunner, LocalLambdaContext
from grabadora.resources import EXPORTER, Resources

pytestmark = pytest.mark.infrastructure


@pytest.fixture(scope="module")
def provisioned(resources: Resources) -> Iterator[Resources]:
    """The stack's own resource definitions (grabadora-prod-…) provisioned on a fresh emulator."""
    from grabadora.local.emulator import Emulator, use_emulator_credentials
    from grabadora.local.provision import provision
    from grabadora.resources import stage_names
    from grabadora.settings import DevSettings, forget_settings, use_settings

    saved = dict(os.environ)
    use_emulator_credentials()
    emulator = Emulator("127.0.0.1", 0)
    url = emulator.start()
    try:
        settings = DevSettings(_env_file=None, aws_endpoint_url=url, **stage_names("grabadora-prod"))
        use_settings(settings)
        provision(resources, settings.region)
        yield resources
    finally:
        emulator.stop()
        os.environ.clear()
        os.environ.update(saved)
        forget_settings()
        from grabadora import aws

        aws.reset_clients()


def _bucket_props(synth) -> dict:  # noqa: ANN001
    return synth.json["Resources"][synth.logical_id(synth.stack.data.bucket)]["Properties"]


def test_the_bucket_cors_rule_is_the_same_on_aws_and_on_the_emulator(synth, provisioned: Resources) -> None:
    from grabadora import aws

    (template_rule,) = _bucket_props(synth)["CorsConfiguration"]["CorsRules"]
    (emulator_rule,) = aws.client("s3").get_bucket_cors(Bucket=provisioned.bucket.name)["CORSRules"]
    # CloudFormation and S3's API spell the same fields differently; the origins are the
    # deployment's own (CDK context on AWS, any origin locally).
    as_cfn = {
        "AllowedMethods": emulator_rule["AllowedMethods"],
        "AllowedHeaders": emulator_rule["AllowedHeaders"],
        "ExposedHeaders": emulator_rule["ExposeHeaders"],
        "MaxAge": emulator_rule["MaxAgeSeconds"],
    }
    assert {k: v for k, v in template_rule.items() if k != "AllowedOrigins"} == as_cfn
    assert emulator_rule["AllowedOrigins"] == ["*"]


@pytest.mark.parametrize("name", ["jobs", "live", "exports"])
def test_each_queue_has_the_same_visibility_and_redrive_on_aws_and_on_the_emulator(
    synth, provisioned: Resources, name: str,
) -> None:
    import json

    from grabadora import aws

    queue = getattr(synth.stack.data, name)
    template = synth.json["Resources"][synth.logical_id(queue)]["Properties"]
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=getattr(provisioned, name).name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["VisibilityTimeout"]) == template["VisibilityTimeout"]
    assert int(attributes["ReceiveMessageWaitTimeSeconds"]) == template["ReceiveMessageWaitTimeSeconds"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == template["RedrivePolicy"]["maxReceiveCount"]


def test_the_exporter_runs_with_the_same_timeout_and_batch_locally_and_on_aws(synth, template, resources) -> None:
    import threading

    fn_id = synth.logical_id(synth.stack.exporter.function)
    props = synth.json["Resources"][fn_id]["Properties"]
    (mapping,) = [
        r["Properties"] for r in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": fn_id}
    ]
    runner = ExporterRunner(threading.Event())
    local_timeout_ms = LocalLambdaContext("arn:aws:lambda:us-east-1:0:function:x").get_remaining_time_in_millis()
    assert props["Timeout"] == EXPORTER.timeout_seconds
    assert mapping["BatchSize"] == runner.batch_size == EXPORTER.batch_size
    assert EXPORTER.timeout_seconds * 1000 - 5000 < local_timeout_ms <= EXPORTER.timeout_seconds * 1000
    # AWS advises a source queue's visibility timeout of at least 6× its function's timeout.
    assert resources.exports.visibility_timeout_seconds >= 6 * props["Timeout"]


def test_a_synth_ignores_the_machine_s_grabadora_variables(synth, monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_cdk.assertions import Template

    from infra_cdk.app import build_app
    from grabadora.settings import get_settings

    # Given a machine whose shell points grabadora at someone's local resources
    stray = {
        "GRABADORA_STAGE": "someones-laptop",
        "GRABADORA_USERS_TABLE": "someones-users",
        "GRABADORA_EVENTS_TABLE": "someones-events",
        "GRABADORA_JOBS_QUEUE": "someones-jobs",
        "GRABADORA_EXPORTS_QUEUE": "someones-exports",
        "GRABADORA_BUCKET": "someones-bucket",
        "GRABADORA_VISIBILITY_TIMEOUT_SECONDS": "7",
        "GRABADORA_MAX_RECEIVES": "9",
        "GRABADORA_EXPORT_TIMEOUT_SECONDS": "99",
        "GRABADORA_AWS_ENDPOINT_URL": "http://127.0.0.1:1",
    }
    for name, value in stray.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    # When the same app is synthesised there (same context as the session's synth)
    root = synth.outdir.parent
    app = build_app(
        {"frontendDistDir": str(root / "dist"), "dependenciesLayerDir": str(root / "layer")},
        nag=False, outdir=str(root / "cdk.out.stray"),
    )
    again = Template.from_stack(app.node.find_child("Grabadora")).to_json()
    get_settings.cache_clear()
    # Then the template is the one synthesised without them, and none of their values is in it
    assert again == synth.json
    text = str(again)
    assert not [value for value in stray.values() if value in text and not value.isdigit()]
