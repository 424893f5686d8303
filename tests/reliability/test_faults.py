"""Faults: workers killed mid-job, the API restarted under live streams, poison, AWS unreachable."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from pathlib import Path

import pytest

from gpu_container.crash_hooks import EXIT_STATUS, POINTS
from grabadora.client import GrabadoraClient, StreamEvent
from tests.reliability.conftest import LONG, ReliabilityStack, count, user_id_of

MULTI_SEGMENT = "pv_leopard_diarization_test.wav"  # 20 s, several segments with tiny.en


def assert_clean_stream(events: list[StreamEvent], expected_text: str | None = None) -> str:
    """Gap-free seq from 0, one terminal `completed` last; returns the streamed text."""
    assert [e.id for e in events] == list(range(len(events))), "seq must be gap-free from 0 and never repeat"
    kinds = [e.event for e in events]
    assert kinds.count("completed") == 1 and kinds[-1] == "completed", kinds[-5:]
    assert "error" not in kinds
    text = "".join(e.data["text"] for e in events if e.event == "delta")
    if expected_text is not None:
        assert text.strip() == expected_text.strip()
    return text


def assert_stored_once(stack: ReliabilityStack, client: GrabadoraClient, job_id: str, events: list[StreamEvent]) -> None:
    """Completed once, one transcript object, equal to what was streamed."""
    user_id = user_id_of(client)
    transcript = client.get_transcript(job_id)
    assert transcript["status"] == "completed"
    assert transcript["text"] == "".join(e.data["text"] for e in events if e.event == "delta").strip()
    keys = [o["Key"] for o in stack.aws("s3").list_objects_v2(Bucket="grabadora-data", Prefix=f"transcripts/{user_id}/")
            .get("Contents", [])]
    assert keys.count(f"transcripts/{user_id}/{job_id}.json") == 1
    stored = json.loads(stack.aws("s3").get_object(Bucket="grabadora-data", Key=f"transcripts/{user_id}/{job_id}.json")["Body"].read())
    assert stored["text"] == transcript["text"]


def _wait_attempt(stack: ReliabilityStack, client: GrabadoraClient, job_id: str, attempt: int, worker, seconds: float = 120) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while int(stack.item(user_id_of(client), job_id).get("attempts", 0)) < attempt:
        if time.monotonic() > deadline:
            raise AssertionError(f"attempt {attempt} never started: {worker.log.read_text()[-2000:]}")
        time.sleep(0.2)


def wait_exit(worker, seconds: float = 120) -> int:  # noqa: ANN001
    return worker.wait(timeout=seconds)


def test_a_job_survives_a_kill_at_every_point(stack: ReliabilityStack, audio_dir: Path) -> None:
    """One job, four crashes in a row (one per point), then a healthy worker: it ends completed once."""
    stack.stop_workers()
    client = stack.client()
    job = client.transcribe(client.upload(str(audio_dir / MULTI_SEGMENT)))
    stack.remember(job["stream_url"])
    # Each crashing worker is started once the previous one holds the message (its attempt is
    # counted), so it loads its model meanwhile and takes the message the moment the crash makes
    # it visible again (after the 4 s visibility timeout), and no two crash points compete.
    previous = None
    for attempt, point in enumerate(POINTS, 1):
        crasher = stack.start_worker(crash_at=point)
        if previous is not None:
            assert wait_exit(previous) == EXIT_STATUS, previous.log.read_text()[-2000:]
            count("faults: workers killed")
        _wait_attempt(stack, client, job["job_id"], attempt, crasher)
        previous = crasher
    assert wait_exit(previous) == EXIT_STATUS, previous.log.read_text()[-2000:]
    count("faults: workers killed")
    item = stack.item(user_id_of(client), job["job_id"])
    assert item["status"] == "completed"  # before_delete: done, message not yet acknowledged
    stack.ensure_worker()
    events = list(client.events(job["stream_url"]))
    assert_clean_stream(events)
    assert_stored_once(stack, client, job["job_id"], events)
    # Completed exactly once: counted once in usage, even though five workers touched it
    assert client.usage()["jobs"] == 1
    # And the message was acknowledged in the end: nothing left in flight for this job
    _wait_queue_empty(stack)
    count("faults: survived", len(POINTS))


def _wait_queue_empty(stack: ReliabilityStack, seconds: float = 30) -> None:
    sqs, url = stack.aws("sqs"), stack.queue_url()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            return
        time.sleep(0.5)
    raise AssertionError(f"jobs queue not empty: {attrs}")


@pytest.mark.skipif(not LONG, reason="long variant: GRABADORA_RELIABILITY_LONG=1")
def test_workers_killed_at_random_times(stack: ReliabilityStack, audio_dir: Path) -> None:
    """SIGKILL at random moments across several jobs; every job ends completed once."""
    rng = random.Random(7)
    stack.stop_workers()
    client = stack.client()
    jobs = [client.transcribe(client.upload(str(audio_dir / MULTI_SEGMENT))) for _ in range(3)]
    for _ in range(6):
        worker = stack.start_worker()
        stack.wait_ready(worker)
        time.sleep(rng.uniform(0.2, 3.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        count("faults: workers killed")
    stack.ensure_worker()
    for job in jobs:
        events = list(client.events(job["stream_url"]))
        assert_clean_stream(events)
        assert_stored_once(stack, client, job["job_id"], events)
        count("faults: survived")
    assert client.usage()["jobs"] == len(jobs)


def _follow(client: GrabadoraClient, stream_url: str, out: list, first_delta: threading.Event, errors: list) -> None:
    try:
        for event in client.events(stream_url, max_reconnects=40):
            out.append(event)
            if event.event == "delta":
                first_delta.set()
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(e)


def test_clients_resume_with_nothing_lost_when_the_api_restarts(stack: ReliabilityStack, audio_dir: Path) -> None:
    stack.ensure_worker()
    n = 6 if LONG else 3
    clients = [stack.client() for _ in range(n)]
    jobs = [c.transcribe(c.upload(str(audio_dir / MULTI_SEGMENT))) for c in clients]
    streams: list[list[StreamEvent]] = [[] for _ in jobs]
    first_delta, errors = threading.Event(), []
    threads = [
        threading.Thread(target=_follow, args=(c, j["stream_url"], s, first_delta, errors), daemon=True)
        for c, j, s in zip(clients, jobs, streams)
    ]
    for t in threads:
        t.start()
    # When the API process dies (SIGKILL) while the streams are open, and comes back
    assert first_delta.wait(120), "no word arrived"
    for _ in range(2 if LONG else 1):
        stack.kill_api()
        count("faults: API restarts")
        time.sleep(1.0)
        stack.start_api()
        time.sleep(1.0)
    for t in threads:
        t.join(timeout=180)
    # Then every client resumed from Last-Event-ID: each event exactly once, none missing
    assert not errors, errors
    for client, job, events in zip(clients, jobs, streams):
        assert_clean_stream(events)
        assert_stored_once(stack, client, job["job_id"], events)
    count("faults: survived (streams resumed)", n)


def test_a_poison_message_lands_in_the_dlq_and_its_job_fails_with_a_reason(stack: ReliabilityStack, audio_dir: Path) -> None:
    # Given a job whose message a worker cannot read (say, an option a newer API added)
    stack.stop_workers()
    client = stack.client()
    job = client.transcribe(client.upload(str(audio_dir / "pv_cheetah_test_en.wav")))
    sqs, url = stack.aws("sqs"), stack.queue_url()
    message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, VisibilityTimeout=60)["Messages"][0]
    body = json.loads(message["Body"])
    assert body["job_id"] == job["job_id"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    body["options"]["profile"] = "ultra"
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    sqs.send_message(QueueUrl=url, MessageBody="\x00 not even json")
    dlq_url = stack.queue_url("grabadora-jobs-dlq")
    before = _depth(stack, dlq_url)
    count("faults: poison messages", 2)
    # When a worker keeps receiving them
    stack.ensure_worker()
    # Then the job ends failed with a reason (on the last allowed receive), the stream says why
    events = list(client.events(job["stream_url"]))
    assert events[-1].event == "error" and "malformed job message" in events[-1].data["detail"]
    assert client.get_transcript(job["job_id"])["status"] == "failed"
    # And both messages end in the DLQ instead of looping forever
    deadline = time.monotonic() + 30
    while _depth(stack, dlq_url) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _depth(stack, dlq_url) >= before + 2
    count("faults: survived (poison parked, job failed)", 2)


def _depth(stack: ReliabilityStack, url: str) -> int:
    attrs = stack.aws("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _ended(stack: ReliabilityStack, client: GrabadoraClient, job_id: str) -> bool:
    """Whether the job's item says it ended, read straight from the emulator (not via the proxy)."""
    return stack.item(user_id_of(client), job_id).get("status") in ("completed", "error")


def test_the_job_survives_aws_briefly_unreachable(stack: ReliabilityStack, audio_dir: Path) -> None:
    worker = stack.ensure_worker()
    client = stack.client()
    job = client.transcribe(client.upload(str(audio_dir / MULTI_SEGMENT)))
    outages = 3 if LONG else 1
    # Given the worker has taken the job (the attempt is counted; decoding and every commit to come)
    _wait_attempt(stack, client, job["job_id"], 1, worker)
    # When the worker's connection to AWS drops (every open connection reset, new ones refused)
    for n in range(outages):
        refused = stack.proxy.refused
        stack.proxy.cut()
        if n == 0:
            assert not _ended(stack, client, job["job_id"]), "the job ended before the outage: nothing was tested"
        count("faults: AWS outages (worker side)")
        time.sleep(3.0)
        stack.proxy.restore()
        if n == 0:
            # The job could not end without AWS, and the worker did try to reach it meanwhile
            assert not _ended(stack, client, job["job_id"])
            assert stack.proxy.refused > refused, "the worker did not reach for AWS during the outage"
        time.sleep(1.0)
    events = list(client.events(job["stream_url"]))
    # Then botocore's retries (or SQS redelivery) carry the job through: every word once
    assert_clean_stream(events)
    assert_stored_once(stack, client, job["job_id"], events)
    count("faults: survived (AWS outage)", outages)
    # attempts == 1: botocore's retries bridged the outage; 2: SQS redelivery resumed the job
    count(f"faults: AWS outage job attempts={client.get_transcript(job['job_id'])['attempts']}")
