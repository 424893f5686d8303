"""A job queued onto an idle worker service starts it at once (moto's ECS and Application Auto
Scaling over HTTP), instead of waiting for the queue-depth alarm's lagging SQS metrics."""

from __future__ import annotations

import io
import math
import struct
import uuid
import wave
from dataclasses import replace

import pytest

from functions.common.deps import get_live_ports, get_ports
from grabadora import aws
from grabadora.adapters.queues import JobQueue
from grabadora.adapters.worker_service import WorkerService
from grabadora.models import LiveOptions, TranscribeOptions
from grabadora.services import jobs, live
from grabadora.settings import get_settings

DESIRED = "ecs:service:DesiredCount"


def tone_wav(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))))
    return buffer.getvalue()


@pytest.fixture
def idle_service(aws_endpoint: str) -> tuple[str, str]:
    """An ECS service at zero tasks, its desired count a scalable target (min 0, max 2), as on AWS."""
    ecs = aws.client("ecs")
    cluster = f"grabadora-test-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(family=cluster, containerDefinitions=[{"name": "worker", "image": "worker", "memory": 512}])
    ecs.create_service(cluster=cluster, serviceName="worker", taskDefinition=cluster, desiredCount=0)
    aws.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId=f"service/{cluster}/worker", ScalableDimension=DESIRED, MinCapacity=0, MaxCapacity=2,
    )
    return cluster, "worker"


@pytest.fixture
def private_queue(aws_endpoint: str) -> JobQueue:
    """A jobs queue of this test's own, so no running worker of another test takes its jobs."""
    name = f"grabadora-nudge-{uuid.uuid4().hex[:8]}"
    aws.client("sqs").create_queue(QueueName=name)
    return JobQueue(name)


def desired_count(cluster: str, service: str) -> int:
    return aws.client("ecs").describe_services(cluster=cluster, services=[service])["services"][0]["desiredCount"]


def scaling_minimum(cluster: str, service: str) -> int:
    (target,) = aws.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{service}"], ScalableDimension=DESIRED,
    )["ScalableTargets"]
    return target["MinCapacity"]


def scheduled_actions(cluster: str, service: str) -> list[dict]:
    return aws.client("application-autoscaling").describe_scheduled_actions(
        ServiceNamespace="ecs", ResourceId=f"service/{cluster}/{service}", ScalableDimension=DESIRED,
    )["ScheduledActions"]


def test_a_job_queued_onto_an_idle_worker_service_starts_it_and_holds_it(idle_service, private_queue) -> None:
    # Given a worker service at zero tasks
    cluster, service = idle_service
    ports = replace(get_ports(), queue=private_queue, worker=WorkerService(cluster, service, hold_seconds=300))
    # When a job is submitted
    job = jobs.submit_file(ports, get_settings(), f"user-{uuid.uuid4().hex}", "tone.wav", "audio/wav", tone_wav(), TranscribeOptions())
    # Then the job is queued, a task is asked for at once, and the scaling minimum is held at one
    # (the queue-depth alarm cannot set it back to zero before SQS's metrics show the job) with
    # its release to the deploy's minimum scheduled five minutes on
    assert job["status"] == "queued" and private_queue.depth() == 1
    assert desired_count(cluster, service) == 1
    assert scaling_minimum(cluster, service) == 1
    (release,) = scheduled_actions(cluster, service)
    assert release["ScheduledActionName"] == f"{service}-nudge-release"
    assert release["Schedule"].startswith("at(") and release["ScalableTargetAction"]["MinCapacity"] == 0


def test_a_live_session_on_an_idle_worker_service_starts_it(idle_service, aws_endpoint: str) -> None:
    cluster, service = idle_service
    name = f"grabadora-nudge-live-{uuid.uuid4().hex[:8]}"
    aws.client("sqs").create_queue(QueueName=name)
    ports = replace(get_live_ports(), queue=JobQueue(name), worker=WorkerService(cluster, service))
    live.start_session(ports, get_settings(), f"user-{uuid.uuid4().hex}", LiveOptions())
    assert desired_count(cluster, service) == 1


def test_a_busy_worker_service_is_left_to_its_scaling(idle_service, private_queue) -> None:
    # Given a service that already runs a task
    cluster, service = idle_service
    aws.client("ecs").update_service(cluster=cluster, service=service, desiredCount=2)
    ports = replace(get_ports(), queue=private_queue, worker=WorkerService(cluster, service))
    # When a job is submitted, then nothing about the service changes
    jobs.submit_file(ports, get_settings(), f"user-{uuid.uuid4().hex}", "tone.wav", "audio/wav", tone_wav(), TranscribeOptions())
    assert desired_count(cluster, service) == 2
    assert scaling_minimum(cluster, service) == 0
    assert scheduled_actions(cluster, service) == []


def test_a_nudge_that_fails_never_fails_the_job(private_queue) -> None:
    # Given a service that does not exist (a wrong name, a missing permission)
    ports = replace(get_ports(), queue=private_queue, worker=WorkerService("no-such-cluster", "worker"))
    # When a job is submitted, then it is queued all the same
    job = jobs.submit_file(ports, get_settings(), f"user-{uuid.uuid4().hex}", "tone.wav", "audio/wav", tone_wav(), TranscribeOptions())
    assert job["status"] == "queued" and private_queue.depth() == 1
