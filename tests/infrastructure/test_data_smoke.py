"""The template's data layer is the one the app expects: deploy its S3, DynamoDB and SQS resources
into the emulator's CloudFormation, point the settings at what it created, and run one job."""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.infrastructure

DATA_TYPES = {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue"}


def _refs(value, found: set[str]) -> set[str]:  # noqa: ANN001
    if isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for v in value.values():
            _refs(v, found)
    elif isinstance(value, list):
        for v in value:
            _refs(v, found)
    return found


def data_template(template: dict, suffix: str) -> dict:
    """Only the data resources; no bootstrap Parameters/Rules; properties pointing elsewhere dropped;
    names suffixed so this stack cannot collide with resources another test made."""
    kept = {k: copy.deepcopy(v) for k, v in template["Resources"].items() if v["Type"] in DATA_TYPES}
    for resource in kept.values():
        props = resource["Properties"]
        for key in list(props):
            if _refs(props[key], set()) - set(kept):
                del props[key]  # e.g. the access-log bucket target is kept, AWS::* pseudo refs are not
        for name_key in ("TableName", "QueueName"):
            if name_key in props:
                props[name_key] = f"{props[name_key]}-{suffix}"
        resource.pop("DeletionPolicy", None)
        resource.pop("UpdateReplacePolicy", None)
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": kept}


@pytest.fixture(scope="module")
def cfn_stack(synth) -> Iterator[dict[str, str]]:
    from grabadora import aws
    from grabadora.local.emulator import Emulator, use_emulator_credentials
    from grabadora.settings import get_settings

    saved = dict(os.environ)
    use_emulator_credentials()
    emulator = Emulator("127.0.0.1", 0)
    url = emulator.start()
    import boto3
    import json

    suffix = uuid.uuid4().hex[:8]
    cfn = boto3.client("cloudformation", endpoint_url=url, region_name="us-east-1")
    body = json.dumps(data_template(synth.json, suffix))
    cfn.create_stack(StackName=f"grabadora-data-{suffix}", TemplateBody=body)
    resources = cfn.describe_stack_resources(StackName=f"grabadora-data-{suffix}")["StackResources"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    stack = synth.stack
    queue_name = lambda q: physical[synth.logical_id(q)].rstrip("/").split("/")[-1]  # noqa: E731 - a queue's physical id is its URL
    names = {
        "GRABADORA_AWS_ENDPOINT_URL": url,
        "GRABADORA_BUCKET": physical[synth.logical_id(stack.data.bucket)],
        "GRABADORA_USERS_TABLE": physical[synth.logical_id(stack.data.users)],
        "GRABADORA_TRANSCRIPTS_TABLE": physical[synth.logical_id(stack.data.transcripts)],
        "GRABADORA_EVENTS_TABLE": physical[synth.logical_id(stack.data.events)],
        "GRABADORA_USER_STATE_TABLE": physical[synth.logical_id(stack.data.user_state)],
        "GRABADORA_LIVE_FRAMES_TABLE": physical[synth.logical_id(stack.data.live_frames)],
        "GRABADORA_JOBS_QUEUE": queue_name(stack.data.jobs),
        "GRABADORA_LIVE_QUEUE": queue_name(stack.data.live),
        "GRABADORA_EXPORTS_QUEUE": queue_name(stack.data.exports),
        "GRABADORA_WHISPER_MODEL": "tiny.en",
        "GRABADORA_VISIBILITY_TIMEOUT_SECONDS": "30",
        "GRABADORA_IOT_PUBLISH": "false",
    }
    os.environ.update(names)
    _forget_cached_adapters()
    yield names
    emulator.stop()
    os.environ.clear()
    os.environ.update(saved)
    _forget_cached_adapters()


def _forget_cached_adapters() -> None:
    """Settings, clients and the app's cached adapters all follow the environment just set."""
    from functions.common.deps import reset_dependencies
    from functions.stream import app as stream_app
    from grabadora import aws
    from grabadora.settings import get_settings

    get_settings.cache_clear()
    aws.reset_clients()
    reset_dependencies()
    stream_app._tables.cache_clear()


def test_cloudformation_created_what_resources_py_defines(cfn_stack, resources) -> None:
    from grabadora import aws

    dynamodb = aws.client("dynamodb")
    env_names = {"UsersTable": "USERS", "TranscriptsTable": "TRANSCRIPTS", "EventsTable": "EVENTS",
                 "UserStateTable": "USER_STATE", "LiveFramesTable": "LIVE_FRAMES"}
    for spec in resources.tables:
        name = cfn_stack[f"GRABADORA_{env_names[spec.logical_id]}_TABLE"]
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert [k["AttributeName"] for k in table["KeySchema"]] == [
            spec.partition_key.name, *([spec.sort_key.name] if spec.sort_key else [])
        ]
        # (TTL is asserted on the template, test_data.py/test_live.py: moto's CloudFormation ignores
        # TimeToLiveSpecification.)
    sqs = aws.client("sqs")
    for env, spec in (("GRABADORA_JOBS_QUEUE", resources.jobs), ("GRABADORA_LIVE_QUEUE", resources.live)):
        url = sqs.get_queue_url(QueueName=cfn_stack[env])["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert int(attributes["VisibilityTimeout"]) == spec.visibility_timeout_seconds
        redrive = json.loads(attributes["RedrivePolicy"])
        assert int(redrive["maxReceiveCount"]) == spec.max_receive_count == 3
        assert f":{spec.dlq_name}-" in redrive["deadLetterTargetArn"]  # its own DLQ (names carry the stack's suffix)


def test_one_job_runs_against_the_template_s_data_layer(cfn_stack, audio_dir) -> None:
    import uvicorn

    from grabadora.client import GrabadoraClient
    from grabadora.local.server import create_local_app
    from grabadora.settings import get_settings
    from gpu_container.transcriber import Transcriber
    from gpu_container.worker import build_worker
    from tests.integration.conftest import drain, free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_local_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        worker = build_worker(get_settings())
        worker.transcriber = Transcriber("tiny.en", "cpu")
        worker.wait_seconds = 1
        with GrabadoraClient(f"http://127.0.0.1:{port}") as client:
            email = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
            client.signup(email, "correct horse battery")
            client.sign_in(email, "correct horse battery")
            job = client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")), language="en")
            drain(worker)
            events = list(client.events(job["stream_url"]))
            assert events[-1].event == "completed"
            transcript = client.get_transcript(job["job_id"])
            assert transcript["status"] == "completed"
            assert "ask not what your country can do for you" in transcript["text"].lower()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
